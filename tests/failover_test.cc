// Failover over real server processes (issue 16's tests): three framerpc_servers behind one
// round_robin channel with a retry policy for the idempotent Say; 10,000 calls from four threads
// while one server is killed with SIGKILL and another stopped with SIGTERM (GOAWAY and drain):
// no call fails. Calls in flight on the killed server end UNAVAILABLE and are retried; calls to a
// server whose connection is refused were never sent and go to another at once.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/notification.h"
#include "gtest/gtest.h"
#include "proto/echo.frpc.h"
#include "rpc/channel.h"

extern char** environ;

namespace framerpc {
namespace {

// A framerpc_server child, ready once it has printed its serving line on the pipe we read.
class ServerChild {
 public:
  ServerChild() {
    int out[2];
    EXPECT_EQ(::pipe2(out, O_CLOEXEC), 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    std::vector<std::string> args = {"server/framerpc_server", "--listen=127.0.0.1:0",
                                     "--shutdown_grace=5s", "--log_level=error"};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    EXPECT_EQ(posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    out_ = ::fdopen(out[0], "r");
    char line[512];
    while (out_ != nullptr && std::fgets(line, sizeof(line), out_) != nullptr) {
      std::string text(line);
      if (absl::StartsWith(text, "framerpc_server: serving ")) {
        text = text.substr(std::string("framerpc_server: serving ").size());
        address_ = text.substr(0, text.find_first_of(",\n"));
        break;
      }
    }
    EXPECT_FALSE(address_.empty()) << "the server did not start";
  }
  ~ServerChild() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_ != nullptr) std::fclose(out_);
  }
  const std::string& address() const { return address_; }
  void Kill() { Signal(SIGKILL); }
  void Terminate() { Signal(SIGTERM); }

 private:
  void Signal(int sig) {
    ::kill(pid_, sig);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  pid_t pid_ = -1;
  FILE* out_ = nullptr;
  std::string address_;
};

constexpr char kRetrySay[] = R"({"methodConfig": [{
    "name": [{"service": "framerpc.echo.EchoService", "method": "Say"}],
    "retryPolicy": {"maxAttempts": 5, "initialBackoff": "0.001s", "maxBackoff": "0.05s",
                    "backoffMultiplier": 2, "retryableStatusCodes": ["UNAVAILABLE"]}}]})";

TEST(FailoverTest, TenThousandCallsWhileOneServerIsKilledAndAnotherStopped) {
  ServerChild a, b, c;
  ChannelOptions options;
  options.load_balancing = "round_robin";
  options.service_config = kRetrySay;
  options.eject_time = absl::Minutes(1);
  absl::StatusOr<std::unique_ptr<Channel>> channel = Channel::Create(
      absl::StrCat("ipv4:", a.address(), ",", b.address(), ",", c.address()), options);
  ASSERT_TRUE(channel.ok()) << channel.status();
  echo::EchoService::Stub stub(channel->get());

  constexpr int kThreads = 4;
  constexpr int kCallsPerThread = 2500;
  std::atomic<int> done{0};
  std::atomic<int> failed{0};
  Notification kill_b;
  Notification stop_c;
  std::vector<std::thread> threads;
  std::string first_failure;
  std::mutex mu;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCallsPerThread; ++i) {
        ClientContext context;
        context.set_timeout(absl::Seconds(30));
        echo::SayRequest request;
        request.set_text(absl::StrCat(t, "/", i));
        echo::SayReply reply;
        const absl::Status status = stub.Say(&context, request, &reply);
        if (!status.ok() || reply.text() != request.text()) {
          failed.fetch_add(1);
          std::lock_guard<std::mutex> lock(mu);
          if (first_failure.empty()) first_failure = status.ToString();
        }
        const int n = done.fetch_add(1) + 1;
        if (n == 3000) kill_b.Notify();
        if (n == 6000) stop_c.Notify();
      }
    });
  }
  kill_b.WaitForNotification();
  b.Kill();
  stop_c.WaitForNotification();
  c.Terminate();
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(done.load(), kThreads * kCallsPerThread);
  EXPECT_EQ(failed.load(), 0) << first_failure;
}

}  // namespace
}  // namespace framerpc

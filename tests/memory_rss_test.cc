// What large frames cost a real framerpc_server process in resident memory, with generous bounds
// (the exact figures are bench/memory_bench's): a 60 MiB request peaks at about twice its size
// (the request and the reply; it was five times), and the memory goes back once the burst is over
// (it stayed: 137 MiB idle after bursts, against 13 at the start).
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "proto/echo.pb.h"
#include "tests/raw_peer.h"

extern char** environ;

namespace framerpc {
namespace {

using test::RawPeer;

constexpr size_t kMiB = size_t{1} << 20;

size_t StatusBytes(pid_t pid, const std::string& field) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field, 0) == 0) {
      std::istringstream in(line.substr(field.size()));
      size_t kb = 0;
      in >> kb;
      return kb * 1024;
    }
  }
  return 0;
}

class MemoryRssTest : public testing::Test {
 protected:
  void SetUp() override {
    const char* srcdir = std::getenv("TEST_SRCDIR");
    ASSERT_NE(srcdir, nullptr);
    const std::string server = absl::StrCat(srcdir, "/framerpc/server/framerpc_server");
    int out[2];
    ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    std::vector<std::string> args = {server, "--listen=127.0.0.1:0", "--io_threads=1",
                                     "--max_frame_bytes=134217728"};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ASSERT_EQ(posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    stdout_ = ::fdopen(out[0], "r");
    char line[512];
    while (std::fgets(line, sizeof line, stdout_) != nullptr) {  // waits on the server's output
      const std::string text(line);
      if (text.rfind("framerpc_server: serving ", 0) == 0) {
        address_ = text.substr(25, text.find_first_of(",\n", 25) - 25);
        break;
      }
    }
    ASSERT_FALSE(address_.empty());
  }

  void TearDown() override {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
    if (stdout_ != nullptr) std::fclose(stdout_);
  }

  // One Say of `bytes` on a connection of its own; the reply is read whole.
  void Say(size_t bytes) {
    Envelope envelope;
    envelope.set_kind(REQUEST);
    envelope.set_call_id(1);
    envelope.set_method("/framerpc.echo.EchoService/Say");
    echo::SayRequest request;
    request.set_text(std::string(bytes, 'r'));
    auto peer = RawPeer::Connect(address_);
    ASSERT_TRUE(peer.ok());
    ASSERT_TRUE(peer->SendFrame(envelope, request.SerializeAsString()));
    std::string in;
    char buffer[1 << 16];
    for (;;) {  // the reply: its header says how long it is
      if (in.size() >= kFrameHeaderSize) {
        const uint32_t body = (uint8_t(in[8]) << 24) | (uint8_t(in[9]) << 16) |
                              (uint8_t(in[10]) << 8) | uint8_t(in[11]);
        if (in.size() >= kFrameHeaderSize + body) break;
      }
      const ssize_t n = ::recv(peer->fd(), buffer, sizeof buffer, 0);
      ASSERT_GT(n, 0);
      in.append(buffer, static_cast<size_t>(n));
    }
  }

  pid_t pid_ = -1;
  FILE* stdout_ = nullptr;
  std::string address_;
};

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;  // shadow memory makes RSS say nothing about our allocations
#else
constexpr bool kSanitized = false;
#endif

TEST_F(MemoryRssTest, A60MiBRequestCostsAboutTwiceItsSizeAndIsGivenBack) {
  if (kSanitized) GTEST_SKIP() << "RSS under a sanitizer measures its shadow memory, not ours";
  Say(1000);  // warm up: threads, buffers
  const size_t base = StatusBytes(pid_, "VmRSS:");
  std::ofstream(absl::StrCat("/proc/", pid_, "/clear_refs")) << "5";  // reset the peak
  Say(60 * kMiB);
  const size_t peak = StatusBytes(pid_, "VmHWM:") - base;
  EXPECT_LT(peak, 3 * 60 * kMiB) << "peak " << peak / kMiB << " MiB";
  // Four at once, twice: a burst.
  for (int round = 0; round < 2; ++round) {
    std::vector<std::thread> clients;
    for (int i = 0; i < 4; ++i) clients.emplace_back([this] { Say(60 * kMiB); });
    for (std::thread& t : clients) t.join();
  }
  // The server answered everything: the memory of those calls is free now, and given back
  // (large bodies are freed to the system, not kept by malloc).
  const size_t after = StatusBytes(pid_, "VmRSS:");
  EXPECT_LT(after, base + 32 * kMiB) << "base " << base / kMiB << " MiB, after "
                                     << after / kMiB << " MiB";
}

}  // namespace
}  // namespace framerpc

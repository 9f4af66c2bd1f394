// The connect of a blocking call on the caller-driven path (rpc/sync_calls.h) against a server
// whose accept queue is full, so that its SYNs are dropped and the connect never completes: it
// must end at the call's deadline, at TryCancel(), or at connect_timeout even when a signal
// interrupts the wait (issue 13.7; the old connect waited connect_timeout whatever the call said,
// and went on as if connected when poll() returned EINTR).
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "proto/echo.frpc.h"
#include "rpc/channel.h"
#include "tests/stalled_peer.h"
#include "tests/test_util.h"
#include "transport/socket_ops.h"

namespace framerpc {
namespace {

using test::FullListener;
using test::WaitUntilBlockedInPoll;

class SyncConnectTest : public testing::Test {
 protected:
  // A blocking Say on the caller-driven path, on a thread of its own.
  void StartCall(ChannelOptions options) {
    options.max_sync_connections = 4;
    auto channel = Channel::Create(listener_.address(), options);
    ASSERT_TRUE(channel.ok()) << channel.status();
    channel_ = *std::move(channel);
    start_ = absl::Now();
    caller_ = std::thread([this] {
      tid_.store(test::CurrentTid());
      echo::EchoService::Stub stub(channel_.get());
      echo::SayReply reply;
      status_ = stub.Say(&context_, echo::SayRequest(), &reply);
      took_ = absl::Now() - start_;
    });
  }
  // Waits for the call to be in its connect's poll.
  void WaitForConnectWait() {
    while (tid_.load() == 0) std::this_thread::yield();
    ASSERT_TRUE(WaitUntilBlockedInPoll(tid_.load()));
  }
  void Join() { caller_.join(); }

  FullListener listener_;
  std::unique_ptr<Channel> channel_;
  ClientContext context_;
  std::thread caller_;
  std::atomic<pid_t> tid_{0};
  absl::Time start_;
  absl::Status status_;
  absl::Duration took_;
};

TEST_F(SyncConnectTest, TheCallsDeadlineEndsTheConnect) {
  ChannelOptions options;
  options.connect_timeout = absl::Seconds(20);
  context_.set_timeout(absl::Milliseconds(300));
  StartCall(options);
  Join();
  EXPECT_EQ(status_.code(), absl::StatusCode::kDeadlineExceeded) << status_;
  EXPECT_EQ(status_.message(), "deadline exceeded");
  EXPECT_LT(took_, absl::Seconds(10));
}

TEST_F(SyncConnectTest, TheConnectTimeoutStillAppliesBeforeALaterDeadline) {
  ChannelOptions options;
  options.connect_timeout = absl::Milliseconds(300);
  context_.set_timeout(absl::Seconds(20));
  StartCall(options);
  Join();
  EXPECT_EQ(status_.code(), absl::StatusCode::kUnavailable) << status_;
  EXPECT_EQ(status_.message(), absl::StrCat("connect to ", listener_.address(), " timed out"));
  EXPECT_LT(took_, absl::Seconds(10));
}

TEST_F(SyncConnectTest, TryCancelEndsTheConnect) {
  ChannelOptions options;
  options.connect_timeout = absl::Seconds(20);
  StartCall(options);
  WaitForConnectWait();
  context_.TryCancel();
  Join();
  EXPECT_EQ(status_.code(), absl::StatusCode::kCancelled) << status_;
  EXPECT_EQ(status_.message(), "cancelled by the client");
  EXPECT_LT(took_, absl::Seconds(10));
}

void IgnoreSignal(int) {}

// A signal interrupting the connect's poll() is not a connection: the wait goes on for what is
// left of the connect timeout, which then fails the call. (The old code took EINTR for success
// and blocked in send() on the unconnected socket until the call's deadline.)
TEST_F(SyncConnectTest, ASignalDoesNotEndTheConnectWait) {
  struct sigaction action {};
  action.sa_handler = IgnoreSignal;  // no SA_RESTART: poll() returns EINTR
  struct sigaction previous {};
  ASSERT_EQ(::sigaction(SIGUSR1, &action, &previous), 0);
  ChannelOptions options;
  options.connect_timeout = absl::Seconds(1);
  context_.set_timeout(absl::Seconds(20));
  StartCall(options);
  WaitForConnectWait();
  ASSERT_EQ(::pthread_kill(caller_.native_handle(), SIGUSR1), 0);
  Join();
  ::sigaction(SIGUSR1, &previous, nullptr);
  EXPECT_EQ(status_.code(), absl::StatusCode::kUnavailable) << status_;
  EXPECT_EQ(status_.message(), absl::StrCat("connect to ", listener_.address(), " timed out"));
  EXPECT_LT(took_, absl::Seconds(10));
}

}  // namespace
}  // namespace framerpc

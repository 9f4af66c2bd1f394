// The bounds a Channel puts on the calls it holds (issue 13.6; ChannelOptions::
// max_outstanding_calls, max_queued_request_bytes, output_high_water_bytes, on_limit): past each,
// a new call fails at once with RESOURCE_EXHAUSTED naming the bound (kFail) or waits for room, up
// to its deadline and never past its cancellation (kWait). The old channel queued without limit.
#include <sys/socket.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/notification.h"
#include "gtest/gtest.h"
#include "rpc/channel.h"
#include "rpc/server.h"
#include "tests/blocking_service.h"
#include "tests/raw_peer.h"
#include "tests/stalled_peer.h"
#include "tests/stream_service.h"
#include "tests/test_util.h"
#include "transport/socket_ops.h"

namespace framerpc {
namespace {

constexpr char kBlock[] = "/framerpc.test.BlockingService/Block";

// The statuses of asynchronous calls, collected as their callbacks run: in completion order, and
// by the order the calls were started.
class Outcomes {
 public:
  DoneCallback Add() {
    std::lock_guard<std::mutex> lock(mu_);
    const size_t index = by_start_.size();
    by_start_.emplace_back();
    return [this, index](absl::Status status) {
      std::lock_guard<std::mutex> lock(mu_);
      by_start_[index] = status;
      statuses_.push_back(std::move(status));
      changed_.notify_all();
    };
  }
  // Waits for `n` calls to have completed; returns their statuses in completion order.
  std::vector<absl::Status> WaitFor(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, [&] { return statuses_.size() >= n; });
    return statuses_;
  }
  // Waits for the `index`-th call started to complete.
  absl::Status WaitForCall(size_t index) {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, [&] { return by_start_[index].has_value(); });
    return *by_start_[index];
  }
  // The `index`-th call's status if it has completed.
  std::optional<absl::Status> Get(size_t index) {
    std::lock_guard<std::mutex> lock(mu_);
    return by_start_[index];
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  std::vector<std::optional<absl::Status>> by_start_;
  std::vector<absl::Status> statuses_;
};

// One asynchronous call whose request, context and reply live as long as the test.
struct AsyncCall {
  ClientContext context;
  test::BlockRequest request;
  test::BlockReply reply;
};

class ChannelLimitsTest : public testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.io_threads = 1;
    server_ = std::make_unique<Server>(options);
    FRPC_ASSERT_OK(server_->AddService(&blocking_, ServiceOptions{.run_inline = false}));
    FRPC_ASSERT_OK(server_->AddService(&streams_));
    FRPC_ASSERT_OK(server_->AddListener("127.0.0.1:0"));
    FRPC_ASSERT_OK(server_->Start());
  }
  void TearDown() override {
    blocking_.Open("go");
    channel_.reset();
  }

  void NewChannel(size_t max_calls, OverLimitPolicy policy) {
    ChannelOptions options;
    options.max_sync_connections = 0;
    options.max_outstanding_calls = max_calls;
    options.on_limit = policy;
    auto channel = Channel::Create(server_->listen_address(0), options);
    ASSERT_TRUE(channel.ok()) << channel.status();
    channel_ = *std::move(channel);
  }

  // Starts a Block call held until Open("go") (or until its context says otherwise).
  AsyncCall* StartBlock(absl::Duration timeout = absl::InfiniteDuration()) {
    calls_.push_back(std::make_unique<AsyncCall>());
    AsyncCall* call = calls_.back().get();
    call->request.set_gate("go");
    if (timeout != absl::InfiniteDuration()) call->context.set_timeout(timeout);
    channel_->StartCall(kBlock, &call->context, call->request, &call->reply, outcomes_.Add());
    return call;
  }

  test::BlockingServiceImpl blocking_;
  test::StreamTestServiceImpl streams_;
  std::unique_ptr<Server> server_;
  Outcomes outcomes_;
  std::vector<std::unique_ptr<AsyncCall>> calls_;  // outlive the channel
  std::unique_ptr<Channel> channel_;
};

TEST_F(ChannelLimitsTest, PastTheCallBoundACallFailsAtOnce) {
  NewChannel(2, OverLimitPolicy::kFail);
  StartBlock();
  StartBlock();
  blocking_.WaitForStarted(2);
  StartBlock();
  std::vector<absl::Status> done = outcomes_.WaitFor(1);
  EXPECT_EQ(done[0].code(), absl::StatusCode::kResourceExhausted) << done[0];
  EXPECT_EQ(done[0].message(),
            absl::StrCat("channel to ", server_->listen_address(0),
                         " already has 2 calls outstanding, its "
                         "ChannelOptions::max_outstanding_calls"));
  // A stream counts as a call.
  ClientContext context;
  test::StreamTestService::Stub stub(channel_.get());
  test::CountRequest request;
  request.set_count(1);
  EXPECT_EQ(stub.Count(&context, request)->Finish().code(), absl::StatusCode::kResourceExhausted);
  // Room again once a call completes.
  blocking_.Open("go");
  outcomes_.WaitFor(3);
  AsyncCall* after = StartBlock();
  std::vector<absl::Status> all = outcomes_.WaitFor(4);
  FRPC_EXPECT_OK(all[3]);
  EXPECT_TRUE(after->reply.released());
}

TEST_F(ChannelLimitsTest, UnderKWaitACallWaitsForRoom) {
  NewChannel(2, OverLimitPolicy::kWait);
  AsyncCall* first = StartBlock();
  StartBlock();
  blocking_.WaitForStarted(2);
  std::thread third([&] { StartBlock(); });  // blocks in StartCall until there is room
  first->context.TryCancel();               // frees a slot
  third.join();
  blocking_.WaitForStarted(3);  // the waiting call went out
  blocking_.Open("go");
  std::vector<absl::Status> done = outcomes_.WaitFor(3);
  EXPECT_EQ(done[0].code(), absl::StatusCode::kCancelled) << done[0];
  FRPC_EXPECT_OK(done[1]);
  FRPC_EXPECT_OK(done[2]);
}

TEST_F(ChannelLimitsTest, UnderKWaitTheDeadlineEndsTheWait) {
  NewChannel(1, OverLimitPolicy::kWait);
  StartBlock();
  blocking_.WaitForStarted(1);
  StartBlock(absl::Milliseconds(100));  // returns once its deadline has passed
  std::vector<absl::Status> done = outcomes_.WaitFor(1);
  EXPECT_EQ(done[0].code(), absl::StatusCode::kDeadlineExceeded) << done[0];
  EXPECT_TRUE(absl::StartsWith(done[0].message(), "deadline exceeded waiting for room: "))
      << done[0];
}

TEST_F(ChannelLimitsTest, UnderKWaitTryCancelEndsTheWait) {
  NewChannel(1, OverLimitPolicy::kWait);
  StartBlock();
  blocking_.WaitForStarted(1);
  calls_.push_back(std::make_unique<AsyncCall>());
  AsyncCall* waiting = calls_.back().get();
  std::atomic<pid_t> tid{0};
  std::thread caller([&] {
    tid.store(test::CurrentTid());
    channel_->StartCall(kBlock, &waiting->context, waiting->request, &waiting->reply,
                        outcomes_.Add());
  });
  while (tid.load() == 0) std::this_thread::yield();
  ASSERT_TRUE(test::WaitUntilBlockedIn(tid.load(), {SYS_futex}));
  waiting->context.TryCancel();
  caller.join();
  std::vector<absl::Status> done = outcomes_.WaitFor(1);
  EXPECT_EQ(done[0].code(), absl::StatusCode::kCancelled) << done[0];
  EXPECT_EQ(done[0].message(), "cancelled before start");
}

// A completion callback runs on the channel's I/O thread, which must never wait: a call it starts
// past a bound fails at once even under kWait.
TEST_F(ChannelLimitsTest, FromTheIoThreadACallNeverWaits) {
  NewChannel(1, OverLimitPolicy::kWait);
  StartBlock();
  blocking_.WaitForStarted(1);
  calls_.push_back(std::make_unique<AsyncCall>());
  AsyncCall* late = calls_.back().get();
  calls_.push_back(std::make_unique<AsyncCall>());
  AsyncCall* nested = calls_.back().get();
  late->context.set_deadline(absl::Now());  // refused at once: its deadline has passed
  Notification nested_done;
  absl::Status nested_status;
  channel_->StartCall(kBlock, &late->context, late->request, &late->reply,
                      [&](absl::Status) {
                        channel_->StartCall(kBlock, &nested->context, nested->request,
                                            &nested->reply, [&](absl::Status status) {
                                              nested_status = status;
                                              nested_done.Notify();
                                            });
                      });
  nested_done.WaitForNotification();
  EXPECT_EQ(nested_status.code(), absl::StatusCode::kResourceExhausted) << nested_status;
}

TEST(ChannelLimitsOptionsTest, ZeroCallsIsRefused) {
  ChannelOptions options;
  options.max_outstanding_calls = 0;
  auto channel = Channel::Create("127.0.0.1:1", options);
  EXPECT_EQ(channel.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(channel.status().message(), "ChannelOptions::max_outstanding_calls must be at least 1");
}

// Requests wait in the channel while its connection is being established; the byte bound
// limits them. (The listener's full accept queue keeps the connect pending.)
TEST(ChannelByteLimitTest, RequestsQueuedWhileConnectingAreBounded) {
  test::FullListener listener;
  ChannelOptions options;
  options.max_sync_connections = 0;
  options.max_queued_request_bytes = 10000;
  options.connect_timeout = absl::Seconds(20);
  auto channel = Channel::Create(listener.address(), options);
  FRPC_ASSERT_OK(channel.status());
  Outcomes outcomes;
  std::vector<std::unique_ptr<AsyncCall>> calls;
  for (int i = 0; i < 2; ++i) {
    calls.push_back(std::make_unique<AsyncCall>());
    calls.back()->context.set_request_attachment(std::string(8000, 'q'));
    (*channel)->StartCall(kBlock, &calls.back()->context, calls.back()->request,
                          &calls.back()->reply, outcomes.Add());
  }
  std::vector<absl::Status> done = outcomes.WaitFor(1);
  EXPECT_EQ(done[0].code(), absl::StatusCode::kResourceExhausted) << done[0];
  EXPECT_TRUE(absl::StrContains(done[0].message(),
                                "ChannelOptions::max_queued_request_bytes (10000)"))
      << done[0];
  // Once the first call ends, its request leaves the queue and a new one fits.
  calls[0]->context.TryCancel();
  done = outcomes.WaitFor(2);
  EXPECT_EQ(done[1].code(), absl::StatusCode::kCancelled) << done[1];
  calls.push_back(std::make_unique<AsyncCall>());
  calls.back()->context.set_request_attachment(std::string(8000, 'r'));
  calls.back()->context.set_timeout(absl::Milliseconds(100));
  (*channel)->StartCall(kBlock, &calls.back()->context, calls.back()->request,
                        &calls.back()->reply, outcomes.Add());
  done = outcomes.WaitFor(3);
  EXPECT_EQ(done[2].code(), absl::StatusCode::kDeadlineExceeded) << done[2];
  EXPECT_EQ(done[2].message(), "deadline exceeded");  // admitted: it ended at its deadline
}

// A server that reads nothing: the client's connection output grows until its high-water mark,
// then new calls are refused (kFail) or wait (kWait) until it drains.
class HighWaterTest : public testing::Test {
 protected:
  void SetUp() override {
    auto listener = Listen(*SocketAddress::Parse("127.0.0.1:0"), 16);
    FRPC_ASSERT_OK(listener.status());
    listener_ = *std::move(listener);
  }
  void TearDown() override {
    channel_.reset();
    if (drain_.joinable()) drain_.join();
  }

  void NewChannel(OverLimitPolicy policy) {
    ChannelOptions options;
    options.max_sync_connections = 0;
    options.output_high_water_bytes = 64 << 10;
    options.on_limit = policy;
    auto channel = Channel::Create(LocalAddress(listener_.get()).ToString(), options);
    ASSERT_TRUE(channel.ok()) << channel.status();
    channel_ = *std::move(channel);
  }

  // Starts a call with a 256 KiB attachment; returns its index in outcomes_.
  size_t StartBig(absl::Duration timeout) {
    calls_.push_back(std::make_unique<AsyncCall>());
    AsyncCall* call = calls_.back().get();
    call->context.set_request_attachment(std::string(256 << 10, 'h'));
    call->context.set_timeout(timeout);
    channel_->StartCall(kBlock, &call->context, call->request, &call->reply, outcomes_.Add());
    return calls_.size() - 1;
  }

  void AcceptTheServer() {
    auto server = test::RawPeer::Accept(listener_.get());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::make_unique<test::RawPeer>(*std::move(server));
  }

  // From now on the server reads (and discards) everything.
  void Drain() {
    drain_ = std::thread([this] {
      char buf[65536];
      while (::recv(server_->fd(), buf, sizeof(buf), 0) > 0) {
      }
    });
  }

  static bool IsHighWater(const absl::Status& status) {
    return absl::StrContains(status.message(),
                             "more than ChannelOptions::output_high_water_bytes (65536)");
  }

  ScopedFd listener_;
  std::unique_ptr<test::RawPeer> server_;
  std::thread drain_;
  Outcomes outcomes_;
  std::vector<std::unique_ptr<AsyncCall>> calls_;
  std::unique_ptr<Channel> channel_;
};

TEST_F(HighWaterTest, CallsAreRefusedWhileTheServerDoesNotRead) {
  NewChannel(OverLimitPolicy::kFail);
  StartBig(absl::Seconds(30));
  AcceptTheServer();
  // Admitted calls stay unanswered; the first to complete is the first refusal. It completes
  // (asynchronously) as soon as the socket buffers are full and 64 KiB more are queued.
  std::optional<absl::Status> refused;
  for (int i = 0; i < 400 && !refused.has_value(); ++i) {
    StartBig(absl::Seconds(30));
    std::vector<absl::Status> done = outcomes_.WaitFor(0);
    if (!done.empty()) refused = done[0];
  }
  ASSERT_TRUE(refused.has_value()) << "400 calls of 256 KiB queued for a server reading nothing";
  EXPECT_EQ(refused->code(), absl::StatusCode::kResourceExhausted) << *refused;
  EXPECT_TRUE(IsHighWater(*refused)) << *refused;
}

TEST_F(HighWaterTest, UnderKWaitACallWaitsUntilTheOutputDrains) {
  NewChannel(OverLimitPolicy::kWait);
  StartBig(absl::Milliseconds(300));
  AcceptTheServer();
  // Fill until a call waits out its (short) deadline for room: its StartCall returns only then.
  bool waited = false;
  for (int i = 0; i < 400 && !waited; ++i) {
    const size_t index = StartBig(absl::Milliseconds(300));
    if (calls_[index]->context.deadline() <= absl::Now()) {
      waited = IsHighWater(outcomes_.WaitForCall(index));
    }
  }
  ASSERT_TRUE(waited) << "no call had to wait for the connection's output to drain";
  // The server reads again: the output drains, and a call waiting for room is admitted (it then
  // ends at its own deadline, unanswered, rather than while waiting for room).
  Drain();
  const size_t last = StartBig(absl::Seconds(2));
  const absl::Status status = outcomes_.WaitForCall(last);
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded) << status;
  EXPECT_EQ(status.message(), "deadline exceeded");
}

}  // namespace
}  // namespace framerpc

// Trace context across two hops (issue 15.4): client -> server A -> server B, where A's handler
// calls B with a ClientContext made from its own ServerContext. The trace id is carried (from a
// client's traceparent, or created by A), a malformed traceparent is replaced, B sees A's
// deadline, and cancelling the client's call to A cancels A's call to B. Over the framed
// transport and through the gRPC adapter.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "absl/strings/str_cat.h"
#include "adapters/grpc/grpc_adapter.h"
#include "adapters/grpc/grpc_test_util.h"
#include "base/notification.h"
#include "gtest/gtest.h"
#include "proto/echo.pb.h"
#include "rpc/channel.h"
#include "rpc/server.h"
#include "tests/test_util.h"

namespace framerpc {
namespace {

constexpr char kForward[] = "/framerpc.trace_test.Hop/Forward";
constexpr char kLeaf[] = "/framerpc.trace_test.Hop/Leaf";
constexpr char kTraceparent[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
constexpr char kTraceId[] = "4bf92f3577b34da6a3ce929d0e0e4736";

bool IsTraceId(absl::string_view s) {
  return s.size() == 32 && s.find_first_not_of("0123456789abcdef") == absl::string_view::npos;
}

// What a handler saw of its call.
struct Seen {
  std::string trace_id;
  std::string span_id;
  std::string parent_span_id;
  absl::Time deadline;
  // Forward only: the context it called the next hop with.
  std::string child_span_id;
  std::string child_parent_span_id;
};

// Forward calls Leaf on the next hop with ClientContext(*context); Leaf records its context and,
// for the text "wait", waits until its call is cancelled.
class HopService final : public Service {
 public:
  HopService() {
    using Handler = UnaryMethodHandler<HopService, echo::SayRequest, echo::SayReply>;
    AddMethod(kForward, std::make_unique<Handler>(this, &HopService::Forward));
    AddMethod(kLeaf, std::make_unique<Handler>(this, &HopService::Leaf));
  }
  const google::protobuf::ServiceDescriptor* descriptor() const override {
    return echo::SayRequest::descriptor()->file()->service(0);
  }

  void set_next(Channel* next) { next_ = next; }
  Seen seen() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }
  Notification& leaf_started() { return leaf_started_; }
  Notification& leaf_cancelled() { return leaf_cancelled_; }

 private:
  void Record(const ServerContext& context) {
    std::lock_guard<std::mutex> lock(mu_);
    seen_.trace_id = std::string(context.trace_id());
    seen_.span_id = std::string(context.span_id());
    seen_.parent_span_id = std::string(context.parent_span_id());
    seen_.deadline = context.deadline();
  }

  absl::Status Forward(ServerContext* context, const echo::SayRequest& request,
                       echo::SayReply* reply) {
    Record(*context);
    ClientContext child(*context);
    {
      std::lock_guard<std::mutex> lock(mu_);
      seen_.child_span_id = std::string(child.span_id());
      seen_.child_parent_span_id = std::string(child.parent_span_id());
    }
    return next_->Call(kLeaf, &child, request, reply);
  }

  absl::Status Leaf(ServerContext* context, const echo::SayRequest& request,
                    echo::SayReply* reply) {
    Record(*context);
    if (request.text() == "wait") {
      leaf_started_.Notify();
      if (context->WaitForCancellation(absl::Now() + absl::Seconds(30))) leaf_cancelled_.Notify();
      return absl::CancelledError("the leaf was cancelled");
    }
    reply->set_text(request.text());
    return absl::OkStatus();
  }

  Channel* next_ = nullptr;
  std::mutex mu_;
  Seen seen_;  // guarded by mu_
  Notification leaf_started_;
  Notification leaf_cancelled_;
};

class TraceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto [server, service] : {std::pair{&a_, &hop_a_}, std::pair{&b_, &hop_b_}}) {
      *server = std::make_unique<Server>();
      FRPC_ASSERT_OK((*server)->AddService(service, {.run_inline = false}));
      FRPC_ASSERT_OK((*server)->AddListener("127.0.0.1:0"));
      FRPC_ASSERT_OK((*server)->Start());
    }
    absl::StatusOr<std::unique_ptr<Channel>> to_b = Channel::Create(b_->listen_address(0));
    ASSERT_TRUE(to_b.ok()) << to_b.status();
    to_b_ = *std::move(to_b);
    hop_a_.set_next(to_b_.get());
    absl::StatusOr<std::unique_ptr<Channel>> to_a = Channel::Create(a_->listen_address(0));
    ASSERT_TRUE(to_a.ok()) << to_a.status();
    to_a_ = *std::move(to_a);
  }

  void TearDown() override {
    to_a_.reset();
    if (a_) a_->Shutdown(absl::Seconds(5));
    to_b_.reset();
    if (b_) b_->Shutdown(absl::Seconds(5));
  }

  absl::Status CallA(ClientContext* context, const std::string& text) {
    echo::SayRequest request;
    request.set_text(text);
    echo::SayReply reply;
    return to_a_->Call(kForward, context, request, &reply);
  }

  HopService hop_a_;
  HopService hop_b_;
  std::unique_ptr<Server> a_;
  std::unique_ptr<Server> b_;
  std::unique_ptr<Channel> to_b_;
  std::unique_ptr<Channel> to_a_;
};

TEST_F(TraceTest, TwoHopsCarryTheClientsTrace) {
  ClientContext context;
  context.set_timeout(absl::Seconds(20));
  context.AddMetadata("traceparent", kTraceparent);
  FRPC_ASSERT_OK(CallA(&context, "hello"));
  const Seen a = hop_a_.seen();
  const Seen b = hop_b_.seen();
  EXPECT_EQ(a.trace_id, kTraceId);
  EXPECT_EQ(a.parent_span_id, "00f067aa0ba902b7");  // the client's span
  EXPECT_EQ(b.trace_id, kTraceId);
  // A's span is the parent of the context A called B with, whose span is B's parent.
  EXPECT_EQ(a.child_parent_span_id, a.span_id);
  EXPECT_EQ(b.parent_span_id, a.child_span_id);
  EXPECT_NE(b.span_id, a.span_id);
  EXPECT_NE(a.child_span_id, a.span_id);
  // B's deadline is A's (sent as the time left, so within the time the hop took).
  ASSERT_NE(a.deadline, absl::InfiniteFuture());
  EXPECT_LT(absl::AbsDuration(b.deadline - a.deadline), absl::Seconds(2));
  EXPECT_LE(a.deadline, context.deadline() + absl::Seconds(1));
}

TEST_F(TraceTest, ATraceBeginsAtTheFirstServerWhenTheClientSendsNone) {
  ClientContext context;
  FRPC_ASSERT_OK(CallA(&context, "hello"));
  const Seen a = hop_a_.seen();
  const Seen b = hop_b_.seen();
  EXPECT_TRUE(IsTraceId(a.trace_id)) << a.trace_id;
  EXPECT_EQ(a.parent_span_id, "");
  EXPECT_EQ(b.trace_id, a.trace_id);
  EXPECT_EQ(b.parent_span_id, a.child_span_id);
  // No deadline anywhere.
  EXPECT_EQ(a.deadline, absl::InfiniteFuture());
  EXPECT_EQ(b.deadline, absl::InfiniteFuture());
}

TEST_F(TraceTest, AMalformedTraceparentIsReplacedNotTrusted) {
  for (const std::string& bad : {
           std::string("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1"),
           std::string("00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01"),
           std::string("00-00000000000000000000000000000000-00f067aa0ba902b7-01"),
           std::string("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
           std::string(kTraceparent) + "-and-more",
       }) {
    ClientContext context;
    context.AddMetadata("traceparent", bad);
    FRPC_ASSERT_OK(CallA(&context, "hello"));
    const Seen a = hop_a_.seen();
    EXPECT_TRUE(IsTraceId(a.trace_id)) << bad;
    EXPECT_NE(a.trace_id, kTraceId) << bad;
    EXPECT_NE(a.trace_id, "00000000000000000000000000000000") << bad;
    EXPECT_EQ(a.parent_span_id, "") << bad;
    EXPECT_EQ(hop_b_.seen().trace_id, a.trace_id) << bad;
  }
}

TEST_F(TraceTest, CancellingTheClientsCallCancelsTheNextHop) {
  ClientContext context;
  echo::SayRequest request;
  request.set_text("wait");
  echo::SayReply reply;
  Notification done;
  absl::Status status;
  to_a_->StartCall(kForward, &context, request, &reply, [&](absl::Status s) {
    status = std::move(s);
    done.Notify();
  });
  ASSERT_TRUE(hop_b_.leaf_started().WaitForNotificationWithDeadline(absl::Now() +
                                                                    absl::Seconds(30)));
  context.TryCancel();
  ASSERT_TRUE(done.WaitForNotificationWithDeadline(absl::Now() + absl::Seconds(30)));
  EXPECT_EQ(status.code(), absl::StatusCode::kCancelled) << status;
  // A's call was cancelled by the client's CANCEL, and that cancelled A's call to B.
  EXPECT_TRUE(hop_b_.leaf_cancelled().WaitForNotificationWithDeadline(absl::Now() +
                                                                      absl::Seconds(30)));
}

TEST_F(TraceTest, TheClientsDeadlineEndsTheNextHop) {
  ClientContext context;
  context.set_timeout(absl::Milliseconds(300));
  const absl::Status status = CallA(&context, "wait");
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded) << status;
  // B's call had A's deadline, and ends with it (or with A's call, which the deadline ended).
  EXPECT_TRUE(hop_b_.leaf_cancelled().WaitForNotificationWithDeadline(absl::Now() +
                                                                      absl::Seconds(30)));
  const Seen b = hop_b_.seen();
  EXPECT_LT(absl::AbsDuration(b.deadline - hop_a_.seen().deadline), absl::Seconds(2));
}

TEST_F(TraceTest, OverTheGrpcAdapter) {
  GrpcAdapter adapter(a_->dispatcher());
  FRPC_ASSERT_OK(adapter.Start());
  grpc::GenericStub stub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", adapter.listen_port()),
                                             grpc::InsecureChannelCredentials()));
  echo::SayRequest request;
  request.set_text("hello");
  std::string response;
  {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    context.AddMetadata("traceparent", kTraceparent);
    const grpc::Status status = grpc_test::UnaryCall(&stub, &context, kForward,
                                                     request.SerializeAsString(), &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(hop_a_.seen().trace_id, kTraceId);
    EXPECT_EQ(hop_a_.seen().parent_span_id, "00f067aa0ba902b7");
    EXPECT_EQ(hop_b_.seen().trace_id, kTraceId);
    EXPECT_EQ(hop_b_.seen().parent_span_id, hop_a_.seen().child_span_id);
  }
  {
    grpc::ClientContext context;
    context.AddMetadata("traceparent", "00-not-a-trace");
    const grpc::Status status = grpc_test::UnaryCall(&stub, &context, kForward,
                                                     request.SerializeAsString(), &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_TRUE(IsTraceId(hop_a_.seen().trace_id));
    EXPECT_NE(hop_a_.seen().trace_id, kTraceId);
    EXPECT_EQ(hop_b_.seen().trace_id, hop_a_.seen().trace_id);
  }
  adapter.Shutdown(absl::Seconds(5));
}

}  // namespace
}  // namespace framerpc

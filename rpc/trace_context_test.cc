#include "rpc/trace_context.h"

#include <memory>
#include <string>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "rpc/call_access.h"
#include "rpc/context.h"

namespace framerpc {
namespace {

constexpr char kValid[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

bool IsLowerHexOf(absl::string_view s, size_t length) {
  return s.size() == length && s.find_first_not_of("0123456789abcdef") == absl::string_view::npos;
}

TEST(TraceContextTest, ParsesAValidHeader) {
  std::optional<TraceContext> parsed = TraceContext::Parse(kValid);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(parsed->span_id(), "00f067aa0ba902b7");
  EXPECT_EQ(parsed->flags(), "01");
  EXPECT_EQ(parsed->traceparent(), kValid);
  EXPECT_EQ(parsed->parent_span_id(), "");
}

TEST(TraceContextTest, RefusesEveryMalformedHeader) {
  const std::string valid = kValid;
  const std::vector<std::string> bad = {
      "",
      "00",
      valid.substr(0, 54),                                              // short
      valid + "-",                                                      // version 00, too long
      valid + "0",
      "ff" + valid.substr(2),                                           // forbidden version
      "0g" + valid.substr(2),                                           // not hex
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",        // uppercase
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",        // zero trace id
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",        // zero parent id
      "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",        // separators
      "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7_01",
      "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",        // misplaced dash
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x",        // flags not hex
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 ",       // trailing space
      " 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",       // later version, no dash
      std::string("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0\0", 55),
  };
  for (const std::string& header : bad) {
    EXPECT_FALSE(TraceContext::Parse(header).has_value()) << "'" << header << "'";
  }
}

TEST(TraceContextTest, LaterVersionsAreReadAsVersion00) {
  std::optional<TraceContext> parsed = TraceContext::Parse(
      "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-holds");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->traceparent(), kValid);
  EXPECT_TRUE(TraceContext::Parse(std::string("cc") + (kValid + 2)).has_value());
}

TEST(TraceContextTest, NewRootAndChildren) {
  const TraceContext root = TraceContext::NewRoot();
  EXPECT_TRUE(IsLowerHexOf(root.trace_id(), 32));
  EXPECT_TRUE(IsLowerHexOf(root.span_id(), 16));
  EXPECT_EQ(root.flags(), "01");
  EXPECT_EQ(root.parent_span_id(), "");
  // What it sends parses back to itself.
  std::optional<TraceContext> reparsed = TraceContext::Parse(root.traceparent());
  ASSERT_TRUE(reparsed.has_value());
  EXPECT_EQ(reparsed->traceparent(), root.traceparent());

  const TraceContext child = root.NewChild();
  EXPECT_EQ(child.trace_id(), root.trace_id());
  EXPECT_EQ(child.flags(), root.flags());
  EXPECT_EQ(child.parent_span_id(), root.span_id());
  EXPECT_TRUE(IsLowerHexOf(child.span_id(), 16));
  EXPECT_NE(child.span_id(), root.span_id());
  EXPECT_NE(TraceContext::NewRoot().trace_id(), root.trace_id());

  const TraceContext empty;
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(empty.trace_id(), "");
  EXPECT_EQ(empty.traceparent(), "");
  EXPECT_FALSE(empty.NewChild().empty());
}

TEST(TraceContextTest, ServerCallContinuesAValidHeaderOnly) {
  const TraceContext continued = TraceContext::ForServerCall({{"TraceParent", kValid}});
  EXPECT_EQ(continued.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(continued.parent_span_id(), "00f067aa0ba902b7");
  EXPECT_NE(continued.span_id(), "00f067aa0ba902b7");
  EXPECT_EQ(continued.flags(), "01");

  for (const auto& metadata : std::vector<Metadata>{
           {},
           {{"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1"}},
           {{"traceparent", kValid}, {"traceparent", kValid}},  // two: believe neither
       }) {
    const TraceContext fresh = TraceContext::ForServerCall(metadata);
    EXPECT_TRUE(IsLowerHexOf(fresh.trace_id(), 32));
    EXPECT_NE(fresh.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
    EXPECT_EQ(fresh.parent_span_id(), "");
  }
}

// A server call as the dispatcher makes it: owned by a shared object.
struct OwnedCall {
  ServerContext context;
};

std::shared_ptr<OwnedCall> NewOwnedCall(const Metadata& metadata, absl::Time deadline) {
  auto call = std::make_shared<OwnedCall>();
  *ServerCallAccess::mutable_client_metadata(&call->context) = metadata;
  ServerCallAccess::set_trace(&call->context,
                              TraceContext::ForServerCall(call->context.client_metadata()));
  ServerCallAccess::set_owner(&call->context, call);
  ServerCallAccess::set_deadline(&call->context, deadline);
  return call;
}

TEST(FromServerContextTest, CarriesTraceAndDeadline) {
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  auto call = NewOwnedCall({{"traceparent", kValid}}, deadline);
  ClientContext child(call->context);
  EXPECT_EQ(child.deadline(), deadline);
  EXPECT_EQ(child.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(child.parent_span_id(), call->context.span_id());
  ASSERT_EQ(child.metadata().size(), 1u);
  EXPECT_EQ(child.metadata()[0].first, "traceparent");
  std::optional<TraceContext> sent = TraceContext::Parse(child.metadata()[0].second);
  ASSERT_TRUE(sent.has_value());
  EXPECT_EQ(sent->trace_id(), call->context.trace_id());
  EXPECT_EQ(sent->span_id(), child.span_id());
  EXPECT_FALSE(child.cancel_requested());
}

TEST(FromServerContextTest, CancellingTheServerCallCancelsTheChild) {
  auto call = NewOwnedCall({}, absl::InfiniteFuture());
  ClientContext child(call->context);
  EXPECT_FALSE(child.cancel_requested());
  ServerCallAccess::Cancel(&call->context);
  EXPECT_TRUE(child.cancel_requested());
  // Made after the cancellation: cancelled from the start.
  ClientContext late(call->context);
  EXPECT_TRUE(late.cancel_requested());
}

TEST(FromServerContextTest, ChildGoneBeforeTheServerCallIsCancelled) {
  auto call = NewOwnedCall({}, absl::InfiniteFuture());
  { ClientContext child(call->context); }
  ServerCallAccess::Cancel(&call->context);  // must not reach the destroyed child
}

TEST(FromServerContextTest, ChildKeepsTheServerCallAlive) {
  auto call = NewOwnedCall({}, absl::InfiniteFuture());
  std::weak_ptr<OwnedCall> watch = call;
  std::unique_ptr<ClientContext> child = ClientContext::FromServerContext(call->context);
  call.reset();  // the transport lets go of the call
  EXPECT_FALSE(watch.expired());
  child.reset();  // unregisters from the still-living signal, then lets it go
  EXPECT_TRUE(watch.expired());
}

TEST(FromServerContextTest, AContextWithoutTraceStartsOne) {
  ServerContext bare;  // not made by a transport
  ClientContext child(bare);
  EXPECT_TRUE(IsLowerHexOf(child.trace_id(), 32));
  EXPECT_EQ(child.parent_span_id(), "");
  EXPECT_EQ(child.deadline(), absl::InfiniteFuture());
}

}  // namespace
}  // namespace framerpc

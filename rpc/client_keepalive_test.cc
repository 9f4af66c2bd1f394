#include "rpc/client_keepalive.h"

#include "gtest/gtest.h"

namespace framerpc {
namespace {

using Action = ClientKeepalive::Action;

const absl::Time kStart = absl::FromUnixSeconds(1000);

TEST(ClientKeepaliveTest, PingsAfterTheKeepaliveTimeWithoutInput) {
  ClientKeepalive keepalive(absl::Seconds(10), absl::Seconds(2), kStart);
  EXPECT_EQ(keepalive.next_check(), kStart + absl::Seconds(10));
  EXPECT_EQ(keepalive.Check(kStart + absl::Seconds(9), true), Action::kNone);
  keepalive.OnInput(kStart + absl::Seconds(5));
  EXPECT_EQ(keepalive.Check(kStart + absl::Seconds(10), true), Action::kNone);
  EXPECT_EQ(keepalive.next_check(), kStart + absl::Seconds(15));
  EXPECT_EQ(keepalive.Check(kStart + absl::Seconds(15), true), Action::kSendPing);
  EXPECT_EQ(keepalive.ping_data(), 1u);
  EXPECT_EQ(keepalive.next_check(), kStart + absl::Seconds(17));
}

TEST(ClientKeepaliveTest, NoInputWithinTheTimeoutMeansDead) {
  ClientKeepalive keepalive(absl::Seconds(10), absl::Seconds(2), kStart);
  ASSERT_EQ(keepalive.Check(kStart + absl::Seconds(10), true), Action::kSendPing);
  EXPECT_EQ(keepalive.Check(kStart + absl::Seconds(11), true), Action::kNone);
  EXPECT_EQ(keepalive.Check(kStart + absl::Seconds(12), true), Action::kDead);
}

TEST(ClientKeepaliveTest, AnyInputAnswersThePing) {
  ClientKeepalive keepalive(absl::Seconds(10), absl::Seconds(2), kStart);
  ASSERT_EQ(keepalive.Check(kStart + absl::Seconds(10), true), Action::kSendPing);
  keepalive.OnInput(kStart + absl::Seconds(11));  // a RESPONSE, say: not necessarily the ACK
  EXPECT_EQ(keepalive.Check(kStart + absl::Seconds(12), true), Action::kNone);
  EXPECT_EQ(keepalive.next_check(), kStart + absl::Seconds(21));
  EXPECT_EQ(keepalive.Check(kStart + absl::Seconds(21), true), Action::kSendPing);
  EXPECT_EQ(keepalive.ping_data(), 2u);
}

TEST(ClientKeepaliveTest, AConnectionWithoutCallsIsNotProbed) {
  ClientKeepalive keepalive(absl::Seconds(10), absl::Seconds(2), kStart);
  EXPECT_EQ(keepalive.Check(kStart + absl::Seconds(30), false), Action::kNone);
  // The clock restarts: a call that begins now is probed only after a quiet keepalive time.
  EXPECT_EQ(keepalive.Check(kStart + absl::Seconds(35), true), Action::kNone);
  EXPECT_EQ(keepalive.Check(kStart + absl::Seconds(40), true), Action::kSendPing);
}

TEST(ClientKeepaliveTest, AnOutstandingPingIsJudgedEvenWithoutCalls) {
  ClientKeepalive keepalive(absl::Seconds(10), absl::Seconds(2), kStart);
  ASSERT_EQ(keepalive.Check(kStart + absl::Seconds(10), true), Action::kSendPing);
  EXPECT_EQ(keepalive.Check(kStart + absl::Seconds(12), false), Action::kDead);
}

}  // namespace
}  // namespace framerpc

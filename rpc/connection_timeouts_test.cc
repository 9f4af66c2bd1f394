#include "rpc/connection_timeouts.h"

#include "gtest/gtest.h"

namespace framerpc {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1000000);

ConnectionTimeoutOptions Options() {
  ConnectionTimeoutOptions options;
  options.first_byte = absl::Seconds(10);
  options.frame_header = absl::Seconds(5);
  options.min_body_bytes_per_second = 1000;
  options.idle = absl::Seconds(300);
  options.keepalive_time = absl::Seconds(60);
  options.keepalive_timeout = absl::Seconds(20);
  return options;
}

// ConnectionTimeouts keeps a reference to its options.
const ConnectionTimeoutOptions kOptions = Options();

PartialFrame Partial(bool header_known = false, uint64_t body = 0) {
  return PartialFrame{true, header_known, body};
}

TEST(ConnectionTimeoutsTest, ASilentConnectionIsClosedAfterTheFirstByteTimeout) {
  ConnectionTimeouts t(kOptions, kT0);
  EXPECT_EQ(t.NextDeadline(), kT0 + absl::Seconds(10));
  EXPECT_EQ(t.Due(kT0 + absl::Seconds(9)), TimeoutAction::kNone);
  EXPECT_EQ(t.Due(kT0 + absl::Seconds(10)), TimeoutAction::kCloseFirstByte);
}

TEST(ConnectionTimeoutsTest, HalfAHeaderIsClosedAfterTheHeaderTimeout) {
  ConnectionTimeouts t(kOptions, kT0);
  t.OnInput(kT0 + absl::Seconds(1), false, Partial());  // one byte, or half a header
  EXPECT_EQ(t.NextDeadline(), kT0 + absl::Seconds(6));
  EXPECT_EQ(t.Due(kT0 + absl::Seconds(5)), TimeoutAction::kNone);
  // More bytes of the same frame do not restart its clock.
  t.OnInput(kT0 + absl::Seconds(4), false, Partial());
  EXPECT_EQ(t.Due(kT0 + absl::Seconds(6)), TimeoutAction::kCloseHeader);
}

TEST(ConnectionTimeoutsTest, ABodyGetsTheHeaderTimePlusItsLengthAtTheMinimumRate) {
  ConnectionTimeouts t(kOptions, kT0);
  t.OnInput(kT0, false, Partial(/*header_known=*/true, /*body=*/10000));  // 10 s at 1000 B/s
  EXPECT_EQ(t.NextDeadline(), kT0 + absl::Seconds(15));
  EXPECT_EQ(t.Due(kT0 + absl::Seconds(14)), TimeoutAction::kNone);
  t.OnInput(kT0 + absl::Seconds(14), false, Partial(true, 10000));  // 10 bytes short, still
  EXPECT_EQ(t.Due(kT0 + absl::Seconds(15)), TimeoutAction::kCloseBody);
}

TEST(ConnectionTimeoutsTest, ACompletedFrameStartsTheNextOnesClock) {
  ConnectionTimeouts t(kOptions, kT0);
  t.OnInput(kT0, false, Partial());
  t.OnInput(kT0 + absl::Seconds(4), /*frame_completed=*/true, Partial());
  EXPECT_EQ(t.Due(kT0 + absl::Seconds(8)), TimeoutAction::kNone);
  EXPECT_EQ(t.Due(kT0 + absl::Seconds(9)), TimeoutAction::kCloseHeader);
}

TEST(ConnectionTimeoutsTest, IdleWithoutCallsIsClosedButNotWithACallInFlight) {
  ConnectionTimeouts t(kOptions, kT0);
  t.OnInput(kT0, true, PartialFrame());
  t.OnCallsInFlight(kT0, 1);
  t.OnCallsInFlight(kT0 + absl::Seconds(100), 0);
  // PING answers arrive meanwhile: they are no call.
  t.OnPingSent(kT0 + absl::Seconds(160));
  t.OnInput(kT0 + absl::Seconds(161), true, PartialFrame());
  EXPECT_NE(t.Due(kT0 + absl::Seconds(399)), TimeoutAction::kCloseIdle);
  EXPECT_EQ(t.Due(kT0 + absl::Seconds(400)), TimeoutAction::kCloseIdle);

  ConnectionTimeouts busy(kOptions, kT0);
  busy.OnInput(kT0, true, PartialFrame());
  busy.OnCallsInFlight(kT0, 1);
  absl::Time last_input = kT0;
  for (int i = 0; i < 20; ++i) {  // a call of 20 minutes, kept alive by PINGs
    const absl::Time now = last_input + absl::Seconds(60);
    EXPECT_EQ(busy.Due(now), TimeoutAction::kSendPing);
    busy.OnPingSent(now);
    last_input = now + absl::Seconds(1);
    busy.OnInput(last_input, true, PartialFrame());
  }
}

TEST(ConnectionTimeoutsTest, KeepalivePingsAQuietPeerAndClosesADeadOne) {
  ConnectionTimeouts t(kOptions, kT0);
  t.OnInput(kT0, true, PartialFrame());
  t.OnCallsInFlight(kT0, 1);
  EXPECT_EQ(t.NextDeadline(), kT0 + absl::Seconds(60));
  EXPECT_EQ(t.Due(kT0 + absl::Seconds(60)), TimeoutAction::kSendPing);
  t.OnPingSent(kT0 + absl::Seconds(60));
  EXPECT_EQ(t.NextDeadline(), kT0 + absl::Seconds(80));
  EXPECT_EQ(t.Due(kT0 + absl::Seconds(79)), TimeoutAction::kNone);
  EXPECT_EQ(t.Due(kT0 + absl::Seconds(80)), TimeoutAction::kCloseKeepalive);
}

TEST(ConnectionTimeoutsTest, PausedReadingStopsThePeersClocks) {
  ConnectionTimeouts t(kOptions, kT0);
  t.OnInput(kT0, false, Partial(true, 1000));  // due at 6 s
  t.OnCallsInFlight(kT0, 1);
  t.OnReadingPaused(kT0 + absl::Seconds(2), true);
  EXPECT_EQ(t.NextDeadline(), absl::InfiniteFuture());
  EXPECT_EQ(t.Due(kT0 + absl::Seconds(100)), TimeoutAction::kNone);
  t.OnReadingPaused(kT0 + absl::Seconds(102), false);  // 100 s stopped
  EXPECT_EQ(t.NextDeadline(), kT0 + absl::Seconds(106));
  EXPECT_EQ(t.Due(kT0 + absl::Seconds(105)), TimeoutAction::kNone);
  EXPECT_EQ(t.Due(kT0 + absl::Seconds(106)), TimeoutAction::kCloseBody);
}

TEST(ConnectionTimeoutsTest, AQuietConnectionOwesItsBuffersOncePerQuietSpell) {
  ConnectionTimeouts t(kOptions, kT0);  // release_buffers: 1 s (the default)
  t.OnInput(kT0, /*frame_completed=*/true, PartialFrame());
  EXPECT_EQ(t.NextDeadline(), kT0 + absl::Seconds(1));
  EXPECT_EQ(t.Due(kT0 + absl::Milliseconds(999)), TimeoutAction::kNone);
  EXPECT_EQ(t.Due(kT0 + absl::Seconds(1)), TimeoutAction::kReleaseBuffers);
  t.OnBuffersReleased();
  EXPECT_EQ(t.Due(kT0 + absl::Seconds(2)), TimeoutAction::kNone);
  EXPECT_EQ(t.NextDeadline(), kT0 + absl::Seconds(60));  // the keepalive's again
  // Bytes arriving take the buffers again: they are owed back after the next quiet second.
  t.OnInput(kT0 + absl::Seconds(5), true, PartialFrame());
  EXPECT_EQ(t.NextDeadline(), kT0 + absl::Seconds(6));
  EXPECT_EQ(t.Due(kT0 + absl::Seconds(6)), TimeoutAction::kReleaseBuffers);
}

TEST(ConnectionTimeoutsTest, BuffersAreNotOwedWhileACallRunsOrAFrameIsBegun) {
  ConnectionTimeouts t(kOptions, kT0);
  t.OnInput(kT0, true, PartialFrame());
  t.OnCallsInFlight(kT0, 1);
  EXPECT_EQ(t.NextDeadline(), kT0 + absl::Seconds(60));
  EXPECT_EQ(t.Due(kT0 + absl::Seconds(30)), TimeoutAction::kNone);
  // The quiet spell starts when the call ends.
  t.OnCallsInFlight(kT0 + absl::Seconds(30), 0);
  EXPECT_EQ(t.NextDeadline(), kT0 + absl::Seconds(31));
  EXPECT_EQ(t.Due(kT0 + absl::Seconds(31)), TimeoutAction::kReleaseBuffers);

  ConnectionTimeouts partial(kOptions, kT0);
  partial.OnInput(kT0, false, Partial());
  EXPECT_EQ(partial.Due(kT0 + absl::Seconds(4)), TimeoutAction::kNone);
  // Given back once, nothing more is owed in this quiet spell but the keepalive's PING.
  ConnectionTimeouts quiet(kOptions, kT0);
  quiet.OnInput(kT0, true, PartialFrame());
  quiet.OnBuffersReleased();
  EXPECT_EQ(quiet.Due(kT0 + absl::Seconds(60)), TimeoutAction::kSendPing);
}

TEST(ConnectionTimeoutsTest, OptionsAreValidated) {
  EXPECT_TRUE(Options().Validate().ok());
  ConnectionTimeoutOptions bad = Options();
  bad.idle = absl::ZeroDuration();
  EXPECT_EQ(bad.Validate().message(), "the idle timeout must be positive, not 0");
  bad = Options();
  bad.min_body_bytes_per_second = 0;
  EXPECT_EQ(bad.Validate().code(), absl::StatusCode::kInvalidArgument);
  bad = Options();
  bad.release_buffers = absl::ZeroDuration();
  EXPECT_EQ(bad.Validate().message(), "the release_buffers timeout must be positive, not 0");
}

}  // namespace
}  // namespace framerpc

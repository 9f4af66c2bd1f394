// ConnectionTimeouts: when a server connection must be acted on because its peer stalls, idles
// or has died, as a pure function of what happened and when. It owns no timer and no socket:
// ServerConnection reports events, arms one loop timer at NextDeadline(), and carries out what
// Due() returns. Unit-tested with made-up times.
//
// The stages, each with its own limit (ConnectionTimeoutOptions):
//  - accepted, nothing received yet: the first byte must come within `first_byte`;
//  - a frame begun: its header and envelope must be complete within `frame_header` of its first
//    bytes arriving, and its body by then plus body_bytes / `min_body_bytes_per_second`;
//  - no call in flight and no frame begun: the connection is idle, closed after `idle`;
//  - nothing received for `keepalive_time`: a PING is owed; nothing received for
//    `keepalive_timeout` after it: the peer is dead;
//  - idle and nothing received for `release_buffers`: the connection's buffers may be given back
//    (not a close: owed once, until input or a call ends the quiet spell).
// While the server itself stops reading the connection (backpressure, the memory budget, the
// cap on calls), the peer cannot make progress: the frame and keepalive clocks stop, and pick up
// where they were when reading resumes.
//
// Thread safety: none; one connection's loop thread.
#ifndef FRAMERPC_RPC_CONNECTION_TIMEOUTS_H_
#define FRAMERPC_RPC_CONNECTION_TIMEOUTS_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace framerpc {

struct ConnectionTimeoutOptions {
  absl::Duration first_byte = absl::Seconds(10);
  // A TLS handshake must be over this long after its ClientHello began it.
  absl::Duration handshake = absl::Seconds(10);
  absl::Duration frame_header = absl::Seconds(10);
  // The slowest a frame body may arrive, averaged over the body, on top of frame_header.
  uint64_t min_body_bytes_per_second = 16 << 10;
  absl::Duration idle = absl::Minutes(5);
  absl::Duration keepalive_time = absl::Minutes(1);
  absl::Duration keepalive_timeout = absl::Seconds(20);
  // A connection quiet this long (no call in flight, no frame begun, nothing received) gives its
  // buffers back (kReleaseBuffers), to take them again when bytes arrive: idle connections then
  // cost little memory, and a busy one pays at most one timer per this period for it.
  absl::Duration release_buffers = absl::Seconds(1);

  // INVALID_ARGUMENT naming the field unless every duration is positive and the rate is >= 1.
  absl::Status Validate() const;
};

// What the incomplete frame at the front of the input looks like, if there is one.
struct PartialFrame {
  bool present = false;
  bool header_known = false;  // its header (and so its body length) has arrived
  uint64_t body_bytes = 0;    // when header_known
};

enum class TimeoutAction {
  kNone,
  kSendPing,
  kCloseFirstByte,  // nothing arrived after the accept
  kCloseHeader,     // a frame's header and envelope stopped arriving part-way
  kCloseBody,       // a frame's body arrives too slowly, or stopped
  kCloseIdle,       // no call in flight for too long
  kCloseKeepalive,  // no sign of life after a PING
  kReleaseBuffers,  // quiet for `release_buffers`: give the buffers back (once per quiet spell)
};

// "first byte", "frame header", ...: for messages and logs.
const char* TimeoutActionName(TimeoutAction action);

class ConnectionTimeouts {
 public:
  // `options` is not copied and must outlive this object (a server's connections share one).
  ConnectionTimeouts(const ConnectionTimeoutOptions& options, absl::Time accepted);
  ConnectionTimeouts(ConnectionTimeoutOptions&&, absl::Time) = delete;

  // Bytes were read, and decoding stopped with `partial` at the front of the input.
  // `frame_completed`: at least one whole frame was taken out in this batch, so a partial frame
  // present now began with these bytes.
  void OnInput(absl::Time now, bool frame_completed, const PartialFrame& partial);
  // The number of calls in flight changed to `calls`.
  void OnCallsInFlight(absl::Time now, size_t calls);
  // The server stopped (true) or resumed (false) reading the connection.
  void OnReadingPaused(absl::Time now, bool paused);
  void OnPingSent(absl::Time now);
  // The buffers were given back after kReleaseBuffers.
  void OnBuffersReleased() { buffers_released_ = true; }

  // When the next action may be due; InfiniteFuture() if never.
  absl::Time NextDeadline() const;
  // The action due at `now`, kNone if none. A close is returned once; kSendPing until
  // OnPingSent.
  TimeoutAction Due(absl::Time now) const;

 private:
  // Times are kept as Unix nanoseconds: an absl::Time is 16 bytes, and every idle connection
  // holds seven of them.
  static int64_t Ns(absl::Time t) { return absl::ToUnixNanos(t); }
  static absl::Time At(int64_t ns) { return absl::FromUnixNanos(ns); }

  // When the partial frame must be complete: its header within frame_header of its first bytes,
  // its body by then plus its length at the minimum rate.
  absl::Time FrameDeadline() const;
  // When the buffers are owed back, InfiniteFuture() if not now (busy, or already given back).
  absl::Time ReleaseDeadline() const;

  const ConnectionTimeoutOptions& options_;
  int64_t accepted_;
  int64_t last_input_;
  int64_t frame_started_ = 0;
  int64_t idle_since_;
  int64_t paused_since_ = 0;
  int64_t ping_sent_ = 0;
  size_t calls_ = 0;
  PartialFrame partial_;
  bool first_byte_seen_ = false;
  bool paused_ = false;
  bool ping_outstanding_ = false;
  bool buffers_released_ = false;  // in this quiet spell
};

}  // namespace framerpc

#endif  // FRAMERPC_RPC_CONNECTION_TIMEOUTS_H_

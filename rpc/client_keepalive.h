// Internal to //rpc:channel: when a client connection sends a keepalive PING, and when it takes its
// server for dead (ChannelOptions::keepalive_time and keepalive_timeout; docs/protocol.md §9.1).
//
// While calls are in flight on the connection and nothing has arrived for `time`, a PING is
// owed; if nothing at all arrives within `timeout` after it, the server is dead. Any input counts
// as a sign of life, not only the ACK. A connection with no call in flight is not probed (its next
// call restarts the clock).
//
// A pure clock: the caller supplies the time and acts on what it returns. Not thread-safe (one
// connection's I/O thread).
#ifndef FRAMERPC_RPC_CLIENT_KEEPALIVE_H_
#define FRAMERPC_RPC_CLIENT_KEEPALIVE_H_

#include <cstdint>

#include "absl/time/time.h"

namespace framerpc {

class ClientKeepalive {
 public:
  enum class Action { kNone, kSendPing, kDead };

  // `time` > 0 and `timeout` > 0. Starts as if input had arrived at `now`.
  ClientKeepalive(absl::Duration time, absl::Duration timeout, absl::Time now);

  // Something arrived from the server.
  void OnInput(absl::Time now) { last_input_ = now; }
  // What is due at `now`. kSendPing also starts the wait for an answer: send it, with
  // ping_data(). `calls_in_flight`: whether the connection has calls in flight.
  Action Check(absl::Time now, bool calls_in_flight);
  // When Check should run next.
  absl::Time next_check() const;
  uint64_t ping_data() const { return pings_sent_; }

 private:
  const absl::Duration time_;
  const absl::Duration timeout_;
  absl::Time last_input_;
  absl::Time ping_sent_ = absl::InfinitePast();
  bool ping_outstanding_ = false;
  uint64_t pings_sent_ = 0;
};

}  // namespace framerpc

#endif  // FRAMERPC_RPC_CLIENT_KEEPALIVE_H_

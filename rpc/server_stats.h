// ServerStats: a server's connection counters, for monitoring and tests: connections accepted,
// closed by reason, and the frames and bytes that crossed them. Written by the I/O threads (per-
// thread shards for the per-frame ones); read from any thread.
#ifndef FRAMERPC_RPC_SERVER_STATS_H_
#define FRAMERPC_RPC_SERVER_STATS_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "absl/time/time.h"
#include "base/sharded_counters.h"

namespace framerpc {

enum class CloseReason {
  kPeerClosed,        // the client closed (EOF)
  kReset,             // a socket error: reset, broken pipe
  kGarbage,           // a protocol error (CONNECTION_ERROR sent)
  kFirstByteTimeout,  // accepted, and nothing arrived in time
  kHeaderTimeout,     // a frame's header and envelope stopped arriving part-way
  kBodyTimeout,       // a frame's body arrived too slowly, or stopped
  kIdle,              // no call for the idle timeout
  kKeepalive,         // no sign of life after a PING
  kLimit,             // refused or shed at a connection limit
  kShutdown,          // closed by Server::Shutdown
  kHandshakeTimeout,  // a TLS handshake did not finish in time
  kTlsFailed,         // a TLS handshake failed, or plaintext came to a TLS-only listener
};
inline constexpr size_t kCloseReasonCount = 12;

// "peer_closed", "reset", "garbage", "first_byte_timeout", "header_timeout", "body_timeout",
// "idle", "keepalive", "limit", "shutdown", "handshake_timeout", "tls_failed": stable, for metric
// labels.
const char* CloseReasonName(CloseReason reason);

class ServerStats {
 public:
  void OnAccepted() { accepted_.fetch_add(1, std::memory_order_relaxed); }
  void OnClosed(CloseReason reason) {
    closed_[static_cast<size_t>(reason)].fetch_add(1, std::memory_order_relaxed);
  }
  // Whole frames, counted with their 16-byte header.
  void OnFrameReceived(size_t bytes) {
    traffic_.Add(kFramesIn);
    traffic_.Add(kBytesIn, bytes);
  }
  void OnFrameSent(size_t bytes) {
    traffic_.Add(kFramesOut);
    traffic_.Add(kBytesOut, bytes);
  }
  // A handler's stream write waited this long for the client's flow-control credit.
  void OnCreditWait(absl::Duration waited) {
    traffic_.Add(kCreditWaitNs, static_cast<uint64_t>(absl::ToInt64Nanoseconds(waited)));
  }

  uint64_t accepted() const { return accepted_.load(std::memory_order_relaxed); }
  uint64_t closed(CloseReason reason) const {
    return closed_[static_cast<size_t>(reason)].load(std::memory_order_relaxed);
  }
  uint64_t frames_received() const { return traffic_.Sum(kFramesIn); }
  uint64_t frames_sent() const { return traffic_.Sum(kFramesOut); }
  uint64_t bytes_received() const { return traffic_.Sum(kBytesIn); }
  uint64_t bytes_sent() const { return traffic_.Sum(kBytesOut); }
  absl::Duration credit_wait() const {
    return absl::Nanoseconds(static_cast<int64_t>(traffic_.Sum(kCreditWaitNs)));
  }

 private:
  enum Traffic : size_t { kFramesIn, kFramesOut, kBytesIn, kBytesOut, kCreditWaitNs, kTraffic };

  std::atomic<uint64_t> accepted_{0};
  std::array<std::atomic<uint64_t>, kCloseReasonCount> closed_{};
  ShardedCounters traffic_{kTraffic};
};

}  // namespace framerpc

#endif  // FRAMERPC_RPC_SERVER_STATS_H_

// ServerStats: a server's connection counters, for monitoring and tests: connections accepted,
// and closed by reason. Written by the I/O threads with relaxed atomics; read from any thread.
#ifndef FRAMERPC_RPC_SERVER_STATS_H_
#define FRAMERPC_RPC_SERVER_STATS_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

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
};
inline constexpr size_t kCloseReasonCount = 10;

// "peer_closed", "reset", "garbage", "first_byte_timeout", "header_timeout", "body_timeout",
// "idle", "keepalive", "limit", "shutdown": stable, for metric labels.
const char* CloseReasonName(CloseReason reason);

class ServerStats {
 public:
  void OnAccepted() { accepted_.fetch_add(1, std::memory_order_relaxed); }
  void OnClosed(CloseReason reason) {
    closed_[static_cast<size_t>(reason)].fetch_add(1, std::memory_order_relaxed);
  }

  uint64_t accepted() const { return accepted_.load(std::memory_order_relaxed); }
  uint64_t closed(CloseReason reason) const {
    return closed_[static_cast<size_t>(reason)].load(std::memory_order_relaxed);
  }

 private:
  std::atomic<uint64_t> accepted_{0};
  std::array<std::atomic<uint64_t>, kCloseReasonCount> closed_{};
};

}  // namespace framerpc

#endif  // FRAMERPC_RPC_SERVER_STATS_H_

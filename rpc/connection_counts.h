// ConnectionCounts: the connections a server holds, overall and per peer, against its limits.
// A peer is counted by its PeerKey (rpc/peer_key.h): a TCP connection's IP address (not the
// port), a Unix-socket connection's uid as the kernel reports it. The server asks before it
// serves a new connection; at a limit it sheds an idle connection or refuses the new one
// (rpc/server.cc).
//
// Thread safety: thread-safe (one mutex; used once per accept and once per close).
#ifndef FRAMERPC_RPC_CONNECTION_COUNTS_H_
#define FRAMERPC_RPC_CONNECTION_COUNTS_H_

#include <cstddef>
#include <mutex>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "rpc/peer_key.h"  // the keys the counts are kept by

namespace framerpc {

class ConnectionCounts {
 public:
  enum class Verdict { kAdmit, kOverTotal, kOverPeer };

  // `max_per_peer` 0: no per-peer limit.
  ConnectionCounts(size_t max_total, size_t max_per_peer)
      : max_total_(max_total), max_per_peer_(max_per_peer) {}
  ConnectionCounts(const ConnectionCounts&) = delete;
  ConnectionCounts& operator=(const ConnectionCounts&) = delete;

  // Counts a connection from `peer` if both limits allow it (kAdmit); otherwise counts nothing.
  Verdict TryAdmit(const std::string& peer);
  // Counts a connection whatever the limits: one admitted in place of a connection being shed.
  void Add(const std::string& peer);
  void Remove(const std::string& peer);

  size_t total() const;
  size_t from(const std::string& peer) const;
  size_t max_total() const { return max_total_; }
  size_t max_per_peer() const { return max_per_peer_; }

 private:
  const size_t max_total_;
  const size_t max_per_peer_;
  mutable std::mutex mu_;
  size_t total_ = 0;                                // guarded by mu_
  absl::flat_hash_map<std::string, size_t> peers_;  // guarded by mu_; no zero entries
};

}  // namespace framerpc

#endif  // FRAMERPC_RPC_CONNECTION_COUNTS_H_

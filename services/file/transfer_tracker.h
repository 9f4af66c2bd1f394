// TransferTracker: the file service's caps on concurrent transfers, overall and per peer, and
// counters of what the transfers have done. A transfer holds its slot (a TransferSlot) for as
// long as its handler runs, so the caps bound the handler threads, file descriptors and buffers
// that transfers hold; the per-peer cap keeps one client from taking every slot. The counters
// serve monitoring, and tests that must wait for a transfer to reach a given point (a download
// blocked on flow control, an upload cleaned up) without sleeping.
//
// Thread safety: every method is safe to call from any thread. A TransferSlot belongs to one
// transfer; its TransferTracker must outlive it.
#ifndef FRAMERPC_SERVICES_FILE_TRANSFER_TRACKER_H_
#define FRAMERPC_SERVICES_FILE_TRANSFER_TRACKER_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace framerpc::file {

struct TransferCounters {
  int active = 0;                     // transfers holding a slot now
  uint64_t refused = 0;               // transfers refused because every slot was taken...
  uint64_t refused_per_peer = 0;      // ...or because their peer held its share of them
  uint64_t chunk_writes_started = 0;  // download data messages handed to the stream...
  uint64_t chunk_writes_done = 0;     // ...and those whose write returned (one may be blocked)
  uint64_t bytes_sent = 0;            // download data bytes sent
  uint64_t bytes_received = 0;        // upload data bytes written to temp files
  uint64_t bytes_hashed = 0;          // file bytes the server hashed for downloads and Stats
                                      // (not those of uploads); a cached digest saves them
  uint64_t uploads_committed = 0;
  uint64_t uploads_failed = 0;  // ended without a commit: their temp files are gone
  uint64_t checksum_failures = 0;  // uploads whose data did not match the client's SHA-256
};

class TransferTracker;

// One running transfer's hold on a slot; released on destruction. Move-only.
class TransferSlot {
 public:
  TransferSlot(TransferSlot&& other) noexcept;
  TransferSlot& operator=(TransferSlot&&) = delete;
  TransferSlot(const TransferSlot&) = delete;
  TransferSlot& operator=(const TransferSlot&) = delete;
  ~TransferSlot();

 private:
  friend class TransferTracker;
  TransferSlot(TransferTracker* tracker, std::string peer)
      : tracker_(tracker), peer_(std::move(peer)) {}
  TransferTracker* tracker_;  // null once moved from
  std::string peer_;
};

class TransferTracker {
 public:
  // `max_active` >= 1 slots in all; `max_per_peer` >= 0 of them for one peer (0: no per-peer
  // cap).
  TransferTracker(int max_active, int max_per_peer)
      : max_active_(max_active), max_per_peer_(max_per_peer) {}
  TransferTracker(const TransferTracker&) = delete;
  TransferTracker& operator=(const TransferTracker&) = delete;

  // A slot for a transfer from `peer` (a PeerKey, rpc/peer_key.h), or RESOURCE_EXHAUSTED:
  // "too many concurrent transfers from <peer> (limit N per peer); retry later" when the peer
  // holds max_per_peer slots already, else "too many concurrent transfers (limit N); retry later"
  // when all are taken.
  absl::StatusOr<TransferSlot> Begin(std::string peer);

  // Applies `change` to the counters under the lock and wakes WaitFor callers.
  void Update(const std::function<void(TransferCounters*)>& change);
  TransferCounters Snapshot() const;
  // Waits until `ready` holds or `deadline` passes; returns whether it held.
  bool WaitFor(const std::function<bool(const TransferCounters&)>& ready,
               absl::Time deadline) const;

  // Slots held by transfers from `peer` now.
  int ActiveFrom(const std::string& peer) const;

  int max_active() const { return max_active_; }
  int max_per_peer() const { return max_per_peer_; }

 private:
  friend class TransferSlot;
  void End(const std::string& peer);

  const int max_active_;
  const int max_per_peer_;
  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  TransferCounters counters_;                    // guarded by mu_
  absl::flat_hash_map<std::string, int> peers_;  // guarded by mu_; slots held, no zero entries
};

}  // namespace framerpc::file

#endif  // FRAMERPC_SERVICES_FILE_TRANSFER_TRACKER_H_

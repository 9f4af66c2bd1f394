#include "services/file/transfer_tracker.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/notification.h"

namespace framerpc::file {

TransferSlot::TransferSlot(TransferSlot&& other) noexcept
    : tracker_(std::exchange(other.tracker_, nullptr)), peer_(std::move(other.peer_)) {}

TransferSlot::~TransferSlot() {
  if (tracker_ != nullptr) tracker_->End(peer_);
}

absl::StatusOr<TransferSlot> TransferTracker::Begin(std::string peer) {
  absl::Status refusal;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = peers_.find(peer);
    const int from_peer = it == peers_.end() ? 0 : it->second;
    if (max_per_peer_ > 0 && from_peer >= max_per_peer_) {
      ++counters_.refused_per_peer;
      refusal = absl::ResourceExhaustedError(absl::StrCat("too many concurrent transfers from ",
                                                          peer, " (limit ", max_per_peer_,
                                                          " per peer); retry later"));
    } else if (counters_.active >= max_active_) {
      ++counters_.refused;
      refusal = absl::ResourceExhaustedError(
          absl::StrCat("too many concurrent transfers (limit ", max_active_, "); retry later"));
    } else {
      ++counters_.active;
      ++peers_[peer];
    }
  }
  changed_.notify_all();
  if (!refusal.ok()) return refusal;
  return TransferSlot(this, std::move(peer));
}

void TransferTracker::End(const std::string& peer) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    --counters_.active;
    auto it = peers_.find(peer);
    if (it != peers_.end() && --it->second == 0) peers_.erase(it);
  }
  changed_.notify_all();
}

int TransferTracker::ActiveFrom(const std::string& peer) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = peers_.find(peer);
  return it == peers_.end() ? 0 : it->second;
}

void TransferTracker::Update(const std::function<void(TransferCounters*)>& change) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    change(&counters_);
  }
  changed_.notify_all();
}

TransferCounters TransferTracker::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return counters_;
}

bool TransferTracker::WaitFor(const std::function<bool(const TransferCounters&)>& ready,
                              absl::Time deadline) const {
  std::unique_lock<std::mutex> lock(mu_);
  return changed_.wait_until(lock, ToChronoDeadline(deadline), [&] { return ready(counters_); });
}

}  // namespace framerpc::file

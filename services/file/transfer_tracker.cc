#include "services/file/transfer_tracker.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/notification.h"

namespace framerpc::file {

TransferSlot::TransferSlot(TransferSlot&& other) noexcept
    : tracker_(std::exchange(other.tracker_, nullptr)) {}

TransferSlot::~TransferSlot() {
  if (tracker_ != nullptr) tracker_->End();
}

absl::StatusOr<TransferSlot> TransferTracker::Begin() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (counters_.active >= max_active_) {
      ++counters_.refused;
    } else {
      ++counters_.active;
      changed_.notify_all();
      return TransferSlot(this);
    }
  }
  changed_.notify_all();
  return absl::ResourceExhaustedError(
      absl::StrCat("too many concurrent transfers (limit ", max_active_, "); retry later"));
}

void TransferTracker::End() {
  Update([](TransferCounters* c) { --c->active; });
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

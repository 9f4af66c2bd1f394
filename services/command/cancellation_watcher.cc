#include "services/command/cancellation_watcher.h"

#include <utility>

namespace framerpc::command {

CancellationWatcher::Watch::Watch(Watch&& other) noexcept
    : watcher_(std::exchange(other.watcher_, nullptr)), id_(other.id_) {}

CancellationWatcher::Watch& CancellationWatcher::Watch::operator=(Watch&& other) noexcept {
  if (this != &other) {
    reset();
    watcher_ = std::exchange(other.watcher_, nullptr);
    id_ = other.id_;
  }
  return *this;
}

void CancellationWatcher::Watch::reset() {
  if (watcher_ != nullptr) std::exchange(watcher_, nullptr)->Remove(id_);
}

CancellationWatcher::CancellationWatcher(absl::Duration interval)
    : interval_(interval), thread_([this] { Loop(); }) {}

CancellationWatcher::~CancellationWatcher() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

CancellationWatcher::Watch CancellationWatcher::Add(std::function<bool()> is_cancelled,
                                                    std::function<void()> on_cancel) {
  uint64_t id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    id = next_id_++;
    entries_.emplace(id, Entry{std::move(is_cancelled), std::move(on_cancel)});
  }
  cv_.notify_all();
  return Watch(this, id);
}

void CancellationWatcher::Remove(uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.erase(id);
}

void CancellationWatcher::Loop() {
  const auto interval = absl::ToChronoNanoseconds(interval_);
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    if (entries_.empty()) {
      cv_.wait(lock, [this] { return stop_ || !entries_.empty(); });
      continue;
    }
    for (auto& [id, entry] : entries_) {
      if (!entry.fired && entry.is_cancelled()) {
        entry.fired = true;
        entry.on_cancel();
      }
    }
    cv_.wait_for(lock, interval, [this] { return stop_; });
  }
}

}  // namespace framerpc::command

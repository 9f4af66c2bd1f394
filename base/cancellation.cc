#include "base/cancellation.h"

#include <utility>

namespace framerpc {

void CancellationSignal::Cancel() {
  std::unique_lock<std::mutex> lock(mu_);
  if (cancelled_.HasBeenNotified()) return;
  // Under mu_: a registration racing with this either sees the signal cancelled and runs its
  // callback itself, or is in callbacks_ and runs below; never both, never neither.
  cancelled_.Notify();
  running_thread_ = std::this_thread::get_id();
  while (!callbacks_.empty()) {
    auto first = callbacks_.begin();
    running_ = first->first;
    // Our own reference: the callback may destroy its registration, and with it the other one.
    const Fn fn = std::move(first->second);
    callbacks_.erase(first);
    lock.unlock();
    [&fn]() noexcept { (*fn)(); }();  // a throwing callback terminates, as std::stop_callback's
    lock.lock();
    running_ = 0;
    cv_.notify_all();
  }
}

uint64_t CancellationSignal::Register(Fn fn) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (cancelled_.HasBeenNotified()) return 0;
  const uint64_t id = next_id_++;
  callbacks_.emplace(id, std::move(fn));
  return id;
}

void CancellationSignal::Unregister(uint64_t id) const {
  std::unique_lock<std::mutex> lock(mu_);
  if (callbacks_.erase(id) > 0) return;
  // Taken by Cancel(): wait until it has returned, unless this is the callback destroying its
  // own registration.
  if (running_thread_ == std::this_thread::get_id()) return;
  cv_.wait(lock, [this, id] { return running_ != id; });
}

CancellationCallback CancellationSignal::OnCancel(std::function<void()> fn) const {
  return CancellationCallback(this, std::move(fn));
}

CancellationCallback::CancellationCallback(const CancellationSignal* signal,
                                           std::function<void()> fn)
    : fn_(std::make_shared<std::function<void()>>(std::move(fn))) {
  id_ = signal->Register(fn_);
  if (id_ == 0) {
    (*fn_)();  // already cancelled
    return;
  }
  signal_ = signal;
}

CancellationCallback& CancellationCallback::operator=(CancellationCallback&& other) noexcept {
  if (this != &other) {
    reset();
    signal_ = std::exchange(other.signal_, nullptr);
    id_ = std::exchange(other.id_, 0);
    fn_ = std::move(other.fn_);
  }
  return *this;
}

void CancellationCallback::reset() {
  if (signal_ != nullptr) signal_->Unregister(id_);
  signal_ = nullptr;
  id_ = 0;
  fn_.reset();
}

}  // namespace framerpc

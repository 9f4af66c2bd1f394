// A one-shot cancellation signal that can be polled, waited for, or subscribed to with callbacks
// (the model of C++20's std::stop_source / std::stop_callback, on the standard primitives for the
// reason base/notification.h gives).
//
//   CancellationSignal signal;
//   CancellationCallback on_cancel(&signal, [&] { process.Kill(); });   // or signal.OnCancel(...)
//   ...                                        // another thread: signal.Cancel() runs the callback
//   // leaving the scope unregisters it; once the destructor returns it neither runs nor will run
//
// Thread safety: everything is thread-safe. Lifetime: a CancellationSignal must outlive every
// CancellationCallback registered with it.
#ifndef FRAMERPC_BASE_CANCELLATION_H_
#define FRAMERPC_BASE_CANCELLATION_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "absl/time/time.h"
#include "base/notification.h"

namespace framerpc {

class CancellationCallback;

class CancellationSignal {
 public:
  CancellationSignal() = default;
  CancellationSignal(const CancellationSignal&) = delete;
  CancellationSignal& operator=(const CancellationSignal&) = delete;

  // Marks the signal cancelled and runs every registered callback once, on this thread, in
  // registration order. Later calls do nothing.
  void Cancel();
  bool IsCancelled() const { return cancelled_.HasBeenNotified(); }
  // Blocks until cancelled or `deadline`; returns IsCancelled().
  bool WaitWithDeadline(absl::Time deadline) const {
    return cancelled_.WaitForNotificationWithDeadline(deadline);
  }

  // Registers `fn` to run once on cancellation: on the thread that calls Cancel(), or at once on
  // this thread if the signal is already cancelled. `fn` must be quick, must not block (it may run
  // on an I/O thread) and must not throw (that terminates the process, as with
  // std::stop_callback).
  CancellationCallback OnCancel(std::function<void()> fn) const;

 private:
  friend class CancellationCallback;

  using Fn = std::shared_ptr<std::function<void()>>;

  // Returns 0 if the signal is already cancelled (the caller runs `fn` itself).
  uint64_t Register(Fn fn) const;
  void Unregister(uint64_t id) const;

  Notification cancelled_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  mutable uint64_t next_id_ = 1;                                  // guarded by mu_
  mutable std::map<uint64_t, Fn> callbacks_;  // guarded by mu_
  // guarded by mu_: the callback Cancel() is running now (0: none), and on which thread.
  mutable uint64_t running_ = 0;
  mutable std::thread::id running_thread_;
};

// A registration of a callback with a CancellationSignal. Destroying it (or reset()) unregisters
// the callback; if the callback is running on another thread at that moment, it waits for it to
// return, so that whatever the callback uses may be destroyed right after. Destroying it from
// within the callback itself is allowed (the callback and its captures live until it returns).
// Movable; an empty one (default-constructed or moved from) does nothing.
class CancellationCallback {
 public:
  CancellationCallback() = default;
  CancellationCallback(const CancellationSignal* signal, std::function<void()> fn);
  CancellationCallback(CancellationCallback&& other) noexcept { *this = std::move(other); }
  CancellationCallback& operator=(CancellationCallback&& other) noexcept;
  CancellationCallback(const CancellationCallback&) = delete;
  CancellationCallback& operator=(const CancellationCallback&) = delete;
  ~CancellationCallback() { reset(); }

  void reset();

 private:
  const CancellationSignal* signal_ = nullptr;
  uint64_t id_ = 0;
  // Shared with the signal: a running callback keeps itself alive even if it destroys this.
  CancellationSignal::Fn fn_;
};

}  // namespace framerpc

#endif  // FRAMERPC_BASE_CANCELLATION_H_

// Watcher: the interest in one file descriptor's readiness and the callbacks to run on it
// (muduo calls this a Channel). It does not own the fd. It belongs to one EventLoop and is used
// only on that loop's thread; its owner must Remove() it before destroying it.
//
// If the loop cannot watch the fd as asked (epoll_ctl fails), the failure is reported like an
// error on the fd: registration_error() says what failed, and the error callback runs from the
// loop after the current batch of events (never inside the Enable/Disable call). An owner that
// sets no error callback can check registration_error() after enabling.
#ifndef FRAMERPC_TRANSPORT_WATCHER_H_
#define FRAMERPC_TRANSPORT_WATCHER_H_

#include <cstdint>
#include <functional>
#include <memory>

#include "absl/status/status.h"

namespace framerpc {

class EventLoop;

class Watcher {
 public:
  using Callback = std::function<void()>;

  Watcher(EventLoop* loop, int fd) : loop_(loop), fd_(fd) {}
  ~Watcher();
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;

  void set_read_callback(Callback cb) { read_callback_ = std::move(cb); }
  void set_write_callback(Callback cb) { write_callback_ = std::move(cb); }
  // Hang-up or error. Called at most once per readiness report, before reads are attempted.
  void set_error_callback(Callback cb) { error_callback_ = std::move(cb); }

  void EnableReading() { Update(events_ | kReadEvents); }
  void DisableReading() { Update(events_ & ~kReadEvents); }
  void EnableWriting() { Update(events_ | kWriteEvents); }
  void DisableWriting() { Update(events_ & ~kWriteEvents); }
  bool IsWriting() const { return (events_ & kWriteEvents) != 0; }
  bool IsReading() const { return (events_ & kReadEvents) != 0; }
  // Stops watching altogether. Safe to call more than once.
  void Remove();

  // Keeps `owner` alive while this watcher's callbacks run (the owner may drop its last other
  // reference inside one of them).
  void Tie(const std::shared_ptr<void>& owner) {
    tie_ = owner;
    tied_ = true;
  }

  int fd() const { return fd_; }
  uint32_t events() const { return events_; }
  // Called by the poller with epoll's report.
  void HandleEvents(uint32_t revents);

  // OK, or why epoll refused the last change of interest (see the file comment). Cleared by the
  // next change that succeeds.
  const absl::Status& registration_error() const { return registration_error_; }

  // Poller and EventLoop bookkeeping.
  bool registered() const { return registered_; }
  void set_registered(bool r) { registered_ = r; }
  void set_registration_error(absl::Status error) { registration_error_ = std::move(error); }
  // A registration failure waits in the loop to be reported.
  bool failure_pending() const { return failure_pending_; }
  void set_failure_pending(bool pending) { failure_pending_ = pending; }

 private:
  static constexpr uint32_t kReadEvents = 0x001 /*EPOLLIN*/ | 0x002 /*EPOLLPRI*/;
  static constexpr uint32_t kWriteEvents = 0x004 /*EPOLLOUT*/;

  void Update(uint32_t events);

  EventLoop* loop_;
  const int fd_;
  uint32_t events_ = 0;
  bool registered_ = false;
  bool failure_pending_ = false;
  bool tied_ = false;
  absl::Status registration_error_;
  std::weak_ptr<void> tie_;
  Callback read_callback_;
  Callback write_callback_;
  Callback error_callback_;
};

}  // namespace framerpc

#endif  // FRAMERPC_TRANSPORT_WATCHER_H_

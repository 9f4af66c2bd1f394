// Watcher: the interest in one file descriptor's readiness and the callbacks to run on it
// (muduo calls this a Channel). It does not own the fd. It belongs to one EventLoop and is used
// only on that loop's thread; its owner must Remove() it before destroying it.
#ifndef FRAMERPC_TRANSPORT_WATCHER_H_
#define FRAMERPC_TRANSPORT_WATCHER_H_

#include <cstdint>
#include <functional>
#include <memory>

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

  // Poller bookkeeping.
  bool registered() const { return registered_; }
  void set_registered(bool r) { registered_ = r; }

 private:
  static constexpr uint32_t kReadEvents = 0x001 /*EPOLLIN*/ | 0x002 /*EPOLLPRI*/;
  static constexpr uint32_t kWriteEvents = 0x004 /*EPOLLOUT*/;

  void Update(uint32_t events);

  EventLoop* loop_;
  const int fd_;
  uint32_t events_ = 0;
  bool registered_ = false;
  bool tied_ = false;
  std::weak_ptr<void> tie_;
  Callback read_callback_;
  Callback write_callback_;
  Callback error_callback_;
};

}  // namespace framerpc

#endif  // FRAMERPC_TRANSPORT_WATCHER_H_

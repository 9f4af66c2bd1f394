// Threads that each run one EventLoop. Start() returns once every loop is running, so loops can be
// used (RunInLoop/QueueInLoop) right away. The destructor quits and joins.
#ifndef FRAMERPC_TRANSPORT_EVENT_LOOP_THREAD_H_
#define FRAMERPC_TRANSPORT_EVENT_LOOP_THREAD_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "transport/event_loop.h"

namespace framerpc {

class EventLoopThread {
 public:
  // `busy_poll`: see EventLoop's constructor.
  explicit EventLoopThread(absl::Duration busy_poll = absl::ZeroDuration());
  ~EventLoopThread();
  EventLoopThread(const EventLoopThread&) = delete;
  EventLoopThread& operator=(const EventLoopThread&) = delete;

  // Valid until the destructor returns.
  EventLoop* loop() const { return loop_.get(); }
  // Quits the loop and joins the thread. Idempotent.
  void Stop();

 private:
  std::unique_ptr<EventLoop> loop_;
  std::thread thread_;
};

// A fixed set of loop threads, handed out round-robin. Thread-safe.
class EventLoopThreadPool {
 public:
  // `threads` <= 0 means one per core. `busy_poll`: see EventLoop's constructor.
  explicit EventLoopThreadPool(int threads, absl::Duration busy_poll = absl::ZeroDuration());
  EventLoop* Next();
  const std::vector<std::unique_ptr<EventLoopThread>>& threads() const { return threads_; }
  void Stop();

 private:
  std::vector<std::unique_ptr<EventLoopThread>> threads_;
  std::atomic<size_t> next_{0};
};

}  // namespace framerpc

#endif  // FRAMERPC_TRANSPORT_EVENT_LOOP_THREAD_H_

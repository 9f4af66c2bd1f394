#include "transport/event_loop_thread.h"

#include "base/notification.h"

namespace framerpc {

EventLoopThread::EventLoopThread(absl::Duration busy_poll) {
  Notification started;
  thread_ = std::thread([this, &started, busy_poll] {
    loop_ = std::make_unique<EventLoop>(busy_poll);
    loop_->QueueInLoop([&started] { started.Notify(); });
    loop_->Run();
  });
  started.WaitForNotification();
}

EventLoopThread::~EventLoopThread() { Stop(); }

void EventLoopThread::Stop() {
  if (!thread_.joinable()) return;
  loop_->Quit();
  thread_.join();
}

EventLoopThreadPool::EventLoopThreadPool(int threads, absl::Duration busy_poll) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 0; i < threads; ++i) threads_.push_back(std::make_unique<EventLoopThread>(busy_poll));
}

EventLoop* EventLoopThreadPool::Next() {
  return threads_[next_.fetch_add(1, std::memory_order_relaxed) % threads_.size()]->loop();
}

void EventLoopThreadPool::Stop() {
  for (auto& thread : threads_) thread->Stop();
}

}  // namespace framerpc

#include "transport/watcher.h"

#include <sys/epoll.h>

#include "transport/event_loop.h"

namespace framerpc {

Watcher::~Watcher() { Remove(); }

void Watcher::Update(uint32_t events) {
  events_ = events;
  loop_->UpdateWatcher(this);
}

void Watcher::Remove() {
  events_ = 0;
  if (registered_ || failure_pending_) loop_->RemoveWatcher(this);
}

void Watcher::HandleEvents(uint32_t revents) {
  std::shared_ptr<void> guard;
  if (tied_) {
    guard = tie_.lock();
    if (!guard) return;
  }
  if ((revents & (EPOLLERR | EPOLLHUP)) && !(revents & EPOLLIN)) {
    if (error_callback_) error_callback_();
    return;
  }
  if ((revents & (EPOLLIN | EPOLLPRI | EPOLLRDHUP | EPOLLHUP)) && read_callback_) read_callback_();
  if ((revents & EPOLLOUT) && write_callback_) write_callback_();
}

}  // namespace framerpc

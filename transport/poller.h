// Poller: a thin epoll(7) wrapper. Owned by one EventLoop and used only on its thread.
#ifndef FRAMERPC_TRANSPORT_POLLER_H_
#define FRAMERPC_TRANSPORT_POLLER_H_

#include <sys/epoll.h>

#include <vector>

#include "base/scoped_fd.h"

namespace framerpc {

class Watcher;

class Poller {
 public:
  Poller();
  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;

  // Waits up to `timeout_ms` (-1: forever) and appends the ready watchers to `active`, with their
  // events already handed over via Watcher::HandleEvents by the caller.
  void Poll(int timeout_ms, std::vector<std::pair<Watcher*, uint32_t>>* active);
  // Registers, modifies or (events == 0) unregisters.
  void Update(Watcher* watcher, uint32_t events);
  void Remove(Watcher* watcher);

 private:
  ScopedFd epoll_fd_;
  std::vector<epoll_event> events_;
};

}  // namespace framerpc

#endif  // FRAMERPC_TRANSPORT_POLLER_H_

// Poller: a thin epoll(7) wrapper. Owned by one EventLoop and used only on its thread.
#ifndef FRAMERPC_TRANSPORT_POLLER_H_
#define FRAMERPC_TRANSPORT_POLLER_H_

#include <sys/epoll.h>

#include <vector>

#include "absl/status/status.h"
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
  // Registers or modifies (events != 0). A failure of epoll_ctl (ENOMEM, ENOSPC past
  // fs.epoll.max_user_watches, EPERM for a file epoll cannot watch) is returned as UNAVAILABLE
  // naming the operation, the fd and the error; the watcher's registration is then unchanged.
  absl::Status Update(Watcher* watcher, uint32_t events);
  // Unregisters, if registered. A failure here is ignored: the fd is being given up anyway.
  void Remove(Watcher* watcher);

 private:
  ScopedFd epoll_fd_;
  std::vector<epoll_event> events_;
};

}  // namespace framerpc

#endif  // FRAMERPC_TRANSPORT_POLLER_H_

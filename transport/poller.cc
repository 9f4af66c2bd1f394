#include "transport/poller.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "transport/watcher.h"

namespace framerpc {

Poller::Poller() : epoll_fd_(::epoll_create1(EPOLL_CLOEXEC)), events_(64) {
  if (!epoll_fd_.valid()) {
    std::fprintf(stderr, "framerpc: epoll_create1 failed: %s\n", std::strerror(errno));
    std::abort();  // Resource exhaustion at start-up; nothing a peer can cause.
  }
}

void Poller::Poll(int timeout_ms, std::vector<std::pair<Watcher*, uint32_t>>* active) {
  const int n = ::epoll_wait(epoll_fd_.get(), events_.data(), static_cast<int>(events_.size()),
                             timeout_ms);
  if (n <= 0) return;  // Timeout or EINTR.
  for (int i = 0; i < n; ++i) {
    const uint32_t revents = events_[i].events;
    active->emplace_back(static_cast<Watcher*>(events_[i].data.ptr), revents);
  }
  if (static_cast<size_t>(n) == events_.size()) events_.resize(events_.size() * 2);
}

absl::Status Poller::Update(Watcher* watcher, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = watcher;
  const bool add = !watcher->registered();
  if (::epoll_ctl(epoll_fd_.get(), add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, watcher->fd(), &ev) == 0) {
    watcher->set_registered(true);
    return absl::OkStatus();
  }
  return absl::UnavailableError(absl::StrCat("epoll_ctl(", add ? "ADD" : "MOD", ") of fd ",
                                             watcher->fd(), " failed: ", std::strerror(errno)));
}

void Poller::Remove(Watcher* watcher) {
  if (!watcher->registered()) return;
  ::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_DEL, watcher->fd(), nullptr);
  watcher->set_registered(false);
}

}  // namespace framerpc

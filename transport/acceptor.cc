#include "transport/acceptor.h"

#include <fcntl.h>
#include <sys/socket.h>

#include <cerrno>

#include "transport/socket_ops.h"

namespace framerpc {

Acceptor::Acceptor(EventLoop* loop, ScopedFd listen_fd, int family,
                   NewConnectionCallback callback)
    : loop_(loop),
      listen_fd_(std::move(listen_fd)),
      family_(family),
      local_address_(LocalAddress(listen_fd_.get())),
      watcher_(std::make_unique<Watcher>(loop, listen_fd_.get())),
      callback_(std::move(callback)),
      spare_fd_(::open("/dev/null", O_RDONLY | O_CLOEXEC)) {
  watcher_->set_read_callback([this] { HandleReadable(); });
}

Acceptor::~Acceptor() { Close(); }

void Acceptor::Start() { watcher_->EnableReading(); }

void Acceptor::Close() {
  if (!listen_fd_.valid()) return;
  watcher_->Remove();
  listen_fd_.reset();
}

void Acceptor::HandleReadable() {
  // Accept a bounded batch per wake-up so one busy listener cannot starve the loop.
  for (int i = 0; i < 64 && listen_fd_.valid(); ++i) {
    sockaddr_storage peer{};
    socklen_t len = sizeof(peer);
    const int fd = ::accept4(listen_fd_.get(), reinterpret_cast<sockaddr*>(&peer), &len,
                             SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      SetNoDelay(fd, family_);
      callback_(ScopedFd(fd), SocketAddress::FromSockaddr(reinterpret_cast<sockaddr*>(&peer), len));
      continue;
    }
    if (errno == EMFILE || errno == ENFILE) {
      spare_fd_.reset();
      ScopedFd excess(::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      excess.reset();
      spare_fd_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
      continue;
    }
    return;  // EAGAIN, or a transient error such as ECONNABORTED: wait for the next wake-up.
  }
}

}  // namespace framerpc

#include "transport/socket_ops.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace framerpc {
namespace {

absl::Status ErrnoStatus(absl::string_view what, const SocketAddress& address, int err) {
  const std::string message = absl::StrCat(what, " ", address.ToString(), ": ", std::strerror(err));
  if (err == ECONNREFUSED || err == ENOENT || err == ETIMEDOUT || err == EHOSTUNREACH ||
      err == ENETUNREACH || err == ECONNRESET) {
    return absl::UnavailableError(message);
  }
  if (err == EADDRINUSE) return absl::AlreadyExistsError(message);
  if (err == EACCES || err == EPERM) return absl::PermissionDeniedError(message);
  if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
    return absl::ResourceExhaustedError(message);
  }
  return absl::InternalError(message);
}

absl::StatusOr<ScopedFd> NewSocket(const SocketAddress& address) {
  ScopedFd fd(::socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return ErrnoStatus("socket for", address, errno);
  return fd;
}

}  // namespace

void SetNoDelay(int fd, int family) {
  if (family != AF_INET && family != AF_INET6) return;
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

absl::StatusOr<ScopedFd> Listen(const SocketAddress& address, int backlog) {
  auto fd = NewSocket(address);
  if (!fd.ok()) return fd.status();
  if (address.is_unix() && !address.is_abstract_unix()) {
    const auto* un = reinterpret_cast<const sockaddr_un*>(address.sockaddr_ptr());
    ::unlink(un->sun_path);
  } else if (!address.is_unix()) {
    int one = 1;
    ::setsockopt(fd->get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (address.family() == AF_INET6) {
      ::setsockopt(fd->get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    }
  }
  if (::bind(fd->get(), address.sockaddr_ptr(), address.length()) != 0) {
    return ErrnoStatus("bind", address, errno);
  }
  if (::listen(fd->get(), backlog) != 0) return ErrnoStatus("listen", address, errno);
  return fd;
}

absl::StatusOr<ScopedFd> StartConnect(const SocketAddress& address, bool* in_progress) {
  auto fd = NewSocket(address);
  if (!fd.ok()) return fd.status();
  SetNoDelay(fd->get(), address.family());
  *in_progress = false;
  if (::connect(fd->get(), address.sockaddr_ptr(), address.length()) != 0) {
    if (errno != EINPROGRESS) return ErrnoStatus("connect to", address, errno);
    *in_progress = true;
  }
  return fd;
}

absl::StatusOr<ScopedFd> ConnectBlocking(const SocketAddress& address) {
  ScopedFd fd(::socket(address.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return ErrnoStatus("socket for", address, errno);
  SetNoDelay(fd.get(), address.family());
  if (::connect(fd.get(), address.sockaddr_ptr(), address.length()) != 0) {
    return ErrnoStatus("connect to", address, errno);
  }
  return fd;
}

SocketAddress LocalAddress(int fd) {
  sockaddr_storage storage{};
  socklen_t len = sizeof(storage);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &len);
  return SocketAddress::FromSockaddr(reinterpret_cast<sockaddr*>(&storage), len);
}

absl::Status SocketError(int fd, const SocketAddress& peer) {
  int err = 0;
  socklen_t len = sizeof(err);
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err == 0) return absl::OkStatus();
  return ErrnoStatus("connect to", peer, err);
}

}  // namespace framerpc

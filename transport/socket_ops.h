// Thin, status-returning wrappers over the socket calls framerpc needs. Stateless; thread-safe.
#ifndef FRAMERPC_TRANSPORT_SOCKET_OPS_H_
#define FRAMERPC_TRANSPORT_SOCKET_OPS_H_

#include "absl/status/statusor.h"
#include "base/scoped_fd.h"
#include "transport/socket_address.h"

namespace framerpc {

// A non-blocking, close-on-exec listening socket with SO_REUSEADDR (TCP). For a Unix socket, a
// stale socket file at the path is removed first.
absl::StatusOr<ScopedFd> Listen(const SocketAddress& address, int backlog);

// Starts a non-blocking connect. *in_progress is set when completion must be awaited (writable,
// then SO_ERROR). TCP sockets get TCP_NODELAY.
absl::StatusOr<ScopedFd> StartConnect(const SocketAddress& address, bool* in_progress);

// Blocking connect, for tools and tests.
absl::StatusOr<ScopedFd> ConnectBlocking(const SocketAddress& address);

// Sets TCP_NODELAY on TCP sockets; a no-op for Unix sockets.
void SetNoDelay(int fd, int family);

// The address a socket is bound to.
SocketAddress LocalAddress(int fd);

// The pending error (SO_ERROR) of a socket, as a status.
absl::Status SocketError(int fd, const SocketAddress& peer);

}  // namespace framerpc

#endif  // FRAMERPC_TRANSPORT_SOCKET_OPS_H_

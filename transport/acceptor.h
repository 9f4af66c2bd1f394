// Acceptor: a listening socket on one loop, handing each accepted connection's fd to a callback.
// Created, started and destroyed on its loop's thread.
#ifndef FRAMERPC_TRANSPORT_ACCEPTOR_H_
#define FRAMERPC_TRANSPORT_ACCEPTOR_H_

#include <functional>
#include <memory>

#include "transport/event_loop.h"
#include "base/scoped_fd.h"
#include "transport/socket_address.h"
#include "transport/watcher.h"

namespace framerpc {

class Acceptor {
 public:
  // Runs on the acceptor's loop with a non-blocking, close-on-exec, TCP_NODELAY fd.
  using NewConnectionCallback = std::function<void(ScopedFd fd, const SocketAddress& peer)>;

  // `listen_fd` from Listen().
  Acceptor(EventLoop* loop, ScopedFd listen_fd, int family, NewConnectionCallback callback);
  ~Acceptor();
  Acceptor(const Acceptor&) = delete;
  Acceptor& operator=(const Acceptor&) = delete;

  void Start();
  // Stops accepting and closes the listening socket (new connections are then refused).
  void Close();
  SocketAddress local_address() const { return local_address_; }

 private:
  void HandleReadable();

  EventLoop* loop_;
  ScopedFd listen_fd_;
  const int family_;
  SocketAddress local_address_;
  std::unique_ptr<Watcher> watcher_;
  NewConnectionCallback callback_;
  // Held open so that on EMFILE one accept can succeed and the excess connection be closed,
  // instead of the listening socket staying readable and the loop spinning.
  ScopedFd spare_fd_;
};

}  // namespace framerpc

#endif  // FRAMERPC_TRANSPORT_ACCEPTOR_H_

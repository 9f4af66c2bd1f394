// Server::Sniffing: an accepted connection the server holds, reading nothing, until its first
// bytes tell its protocol (and, on a TLS listener, until its handshake is done). Private to
// rpc/server.cc and rpc/server_tls.cc.
//
// Lifetime: owned by Server::sniffing_ (a shared_ptr, so that a task queued on its loop may keep
// it until it runs); its watcher and timers are touched only on `loop`.
#ifndef FRAMERPC_RPC_SERVER_SNIFFING_H_
#define FRAMERPC_RPC_SERVER_SNIFFING_H_

#include <memory>

#include "rpc/server.h"
#include "transport/tls/tls_session.h"
#include "transport/watcher.h"

namespace framerpc {

struct Server::Sniffing {
  EventLoop* loop;
  ScopedFd fd;
  Accepted accepted;
  bool shedding = false;  // guarded by mu_
  std::unique_ptr<Watcher> watcher;
  TimerId first_byte_timer = 0;
  TimerId retry_timer = 0;              // while a prefix waits for more bytes
  absl::Duration retry_delay = absl::Milliseconds(1);
  ListenerTls tls = ListenerTls::kOff;
  // From the ClientHello on: the session being handshaken, and its deadline.
  std::unique_ptr<TlsSession> tls_session;
  TimerId handshake_timer = 0;
};

}  // namespace framerpc

#endif  // FRAMERPC_RPC_SERVER_SNIFFING_H_

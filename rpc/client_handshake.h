// ClientHandshake: drives a client TlsSession's handshake over a connected, non-blocking socket on
// the channel's loop, waiting for readability or writability as the session asks. It bounds
// nothing itself: the channel's connect timeout covers the handshake.
//
// Ownership: owns the session until TakeSession(); does not own the socket. Loop thread only.
// `done` runs once, from a watcher callback; the owner may Stop() there but must destroy the
// handshake from a later loop task (the watcher is on the stack).
#ifndef FRAMERPC_RPC_CLIENT_HANDSHAKE_H_
#define FRAMERPC_RPC_CLIENT_HANDSHAKE_H_

#include <functional>
#include <memory>

#include "absl/status/status.h"
#include "transport/event_loop.h"
#include "transport/tls/tls_session.h"
#include "transport/watcher.h"

namespace framerpc {

class ClientHandshake {
 public:
  using Done = std::function<void(absl::Status)>;
  ClientHandshake(EventLoop* loop, int fd, std::unique_ptr<TlsSession> session, Done done);
  ~ClientHandshake() { Stop(); }
  ClientHandshake(const ClientHandshake&) = delete;
  ClientHandshake& operator=(const ClientHandshake&) = delete;

  void Start();
  // Stops watching the socket (so that a Connection may watch it next). Idempotent.
  void Stop() { watcher_.Remove(); }
  std::unique_ptr<TlsSession> TakeSession() { return std::move(session_); }

 private:
  void Advance();

  Watcher watcher_;
  std::unique_ptr<TlsSession> session_;
  Done done_;
};

}  // namespace framerpc

#endif  // FRAMERPC_RPC_CLIENT_HANDSHAKE_H_

// Test helpers for TlsSession over a non-blocking socketpair, both ends driven from the test's
// thread: the pair itself, the two handshakes pumped in turn, and reading what has arrived.
// Test-only; not thread-safe.
#ifndef FRAMERPC_TRANSPORT_TLS_SESSION_PUMP_H_
#define FRAMERPC_TRANSPORT_TLS_SESSION_PUMP_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "transport/record_layer.h"
#include "transport/tls/tls_context.h"
#include "transport/tls/tls_session.h"

namespace framerpc {

// A connected AF_UNIX stream pair, non-blocking, closed on destruction.
class SocketPair {
 public:
  SocketPair();
  ~SocketPair();
  SocketPair(const SocketPair&) = delete;
  SocketPair& operator=(const SocketPair&) = delete;
  int client() const { return fds_[0]; }
  int server() const { return fds_[1]; }

 private:
  int fds_[2] = {-1, -1};
};

struct Outcome {
  absl::Status client;
  absl::Status server;
};

// Alternates the two handshakes until both are done or one fails (the other is then run until it
// stops making progress, so that it sees the alert).
Outcome Pump(TlsSession* client, TlsSession* server);

// Reads whatever arrives on `session` until `want` bytes or an outcome other than kOk/kWantRead
// (returned), writing nothing.
RecordIo ReadSome(TlsSession* session, std::string* into, size_t want);

// A session of `context` on `fd`; null (and a test failure) if it cannot be made.
std::unique_ptr<TlsSession> NewSession(const std::shared_ptr<TlsContext>& context, int fd,
                                       absl::string_view name = "");

}  // namespace framerpc

#endif  // FRAMERPC_TRANSPORT_TLS_SESSION_PUMP_H_

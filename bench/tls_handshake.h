// One client TLS handshake against a server, timed by the caller: connect over loopback, drive a
// TlsSession to the end of its handshake, and (when the context resumes sessions) wait for the
// server's TLS 1.3 ticket so that the next connection can offer it. For tls_bench's handshakes
// per second.
//
// Thread safety: calls are independent; a TlsContext may be shared (it is thread-safe).
#ifndef FRAMERPC_BENCH_TLS_HANDSHAKE_H_
#define FRAMERPC_BENCH_TLS_HANDSHAKE_H_

#include <string>

#include "absl/status/statusor.h"
#include "transport/socket_address.h"
#include "transport/tls/tls_context.h"

namespace framerpc::bench {

struct HandshakeResult {
  bool resumed = false;  // the server accepted the ticket offered
};

// `server_name` is verified against the server's certificate. `wait_for_ticket`: read after the
// handshake until the server's ticket is in (a TLS 1.3 ticket comes after the handshake).
absl::StatusOr<HandshakeResult> HandshakeOnce(const SocketAddress& server, TlsContext* client,
                                              const std::string& server_name, bool wait_for_ticket);

}  // namespace framerpc::bench

#endif  // FRAMERPC_BENCH_TLS_HANDSHAKE_H_

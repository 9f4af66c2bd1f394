// Internal to //rpc:channel: a client TLS handshake driven by the calling thread, for the
// caller-driven blocking calls of rpc/sync_calls.h. The socket must be non-blocking; the thread
// sleeps in poll(2) between the handshake's steps.
//
// Returns OK once the handshake is done; CANCELLED when `*cancelled` is set (a shutdown(2) of the
// socket from another thread wakes the poll); DEADLINE_EXCEEDED when `until` passes; otherwise
// UNAVAILABLE with TlsSession::Handshake()'s cause ("TLS handshake: certificate verify failed: ...").
//
// Thread safety: the calling thread owns `session` for the duration.
#ifndef FRAMERPC_RPC_BLOCKING_HANDSHAKE_H_
#define FRAMERPC_RPC_BLOCKING_HANDSHAKE_H_

#include <atomic>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "transport/tls/tls_session.h"

namespace framerpc {

absl::Status BlockingHandshake(TlsSession* session, int fd, absl::Time until,
                               const std::atomic<bool>& cancelled);

}  // namespace framerpc

#endif  // FRAMERPC_RPC_BLOCKING_HANDSHAKE_H_

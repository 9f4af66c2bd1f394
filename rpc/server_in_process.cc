// Server::AcceptInProcess: in-process connections (rpc/in_process_connector.h), admitted and
// served as accepted sockets are.
#include <unistd.h>

#include "rpc/peer_key.h"
#include "rpc/server.h"

namespace framerpc {
namespace {

// The peer of an in-process connection is this process: local, with its own credentials (what
// SO_PEERCRED would report for a Unix socket it connected to itself).
PeerIdentity InProcessPeerIdentity() {
  PeerIdentity identity;
  identity.local = true;
  identity.unix_uid = ::getuid();
  identity.unix_gid = ::getgid();
  identity.unix_pid = ::getpid();
  return identity;
}

}  // namespace

absl::StatusOr<MemoryPipeEnd> Server::AcceptInProcess() {
  stats_.OnAccepted();
  absl::StatusOr<std::pair<MemoryPipeEnd, MemoryPipeEnd>> pipe = NewMemoryPipe();
  if (!pipe.ok()) {
    stats_.OnClosed(CloseReason::kReset);
    return pipe.status();
  }
  Accepted accepted{InProcessPeerAddress(), InProcessPeerIdentity(), "", 0};
  accepted.peer_key = PeerKey(accepted.peer, accepted.identity);
  const ConnectionCounts::Verdict verdict = counts_->TryAdmit(accepted.peer_key);
  if (verdict != ConnectionCounts::Verdict::kAdmit &&
      !ShedOldestIdle(verdict, accepted.peer_key)) {
    // A socket's client would read this in a CONNECTION_ERROR frame; here it is told directly.
    stats_.OnClosed(CloseReason::kLimit);
    absl::Status refusal = LimitRefusal(verdict, accepted.peer_key);
    Refused(RefusalKind::kLimit, accepted.peer, refusal.ToString());
    return refusal;
  }
  accepted.seq = next_seq_.fetch_add(1, std::memory_order_relaxed);
  // After a shutdown began the server end is dropped, and the client reads the end at once.
  OnNewConnection(std::move(pipe->second.readiness), std::move(accepted),
                  std::move(pipe->second.layer));
  return std::move(pipe->first);
}

}  // namespace framerpc

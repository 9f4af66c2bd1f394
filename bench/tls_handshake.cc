#include "bench/tls_handshake.h"

#include <fcntl.h>
#include <poll.h>

#include <memory>

#include "transport/socket_ops.h"
#include "transport/tls/tls_session.h"

namespace framerpc::bench {
namespace {

// Waits up to 5 s for `events` on `fd`.
absl::Status Wait(int fd, short events) {
  pollfd pfd{fd, events, 0};
  if (::poll(&pfd, 1, 5000) != 1) return absl::DeadlineExceededError("TLS peer stalled");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<HandshakeResult> HandshakeOnce(const SocketAddress& server, TlsContext* client,
                                              const std::string& server_name,
                                              bool wait_for_ticket) {
  absl::StatusOr<ScopedFd> fd = ConnectBlocking(server);
  if (!fd.ok()) return fd.status();
  ::fcntl(fd->get(), F_SETFL, ::fcntl(fd->get(), F_GETFL) | O_NONBLOCK);
  absl::StatusOr<std::unique_ptr<TlsSession>> session = client->NewSession(fd->get(), server_name);
  if (!session.ok()) return session.status();
  for (;;) {
    absl::StatusOr<TlsSession::Step> step = (*session)->Handshake();
    if (!step.ok()) return step.status();
    if (*step == TlsSession::Step::kDone) break;
    absl::Status ready = Wait(fd->get(), *step == TlsSession::Step::kWantRead ? POLLIN : POLLOUT);
    if (!ready.ok()) return ready;
  }
  HandshakeResult result;
  result.resumed = (*session)->resumed();
  if (wait_for_ticket) {
    // The ticket record follows the server's handshake; reading it hands it to the context.
    if (absl::Status ready = Wait(fd->get(), POLLIN); !ready.ok()) return ready;
    char buf[256];
    const RecordIo io = (*session)->Read(buf, sizeof buf);
    if (io.kind != RecordIo::Kind::kWantRead && io.kind != RecordIo::Kind::kOk) {
      return absl::UnavailableError("no session ticket");
    }
  }
  (*session)->SendCloseNotify();
  return result;
}

}  // namespace framerpc::bench

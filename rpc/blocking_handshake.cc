#include "rpc/blocking_handshake.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace framerpc {

absl::Status BlockingHandshake(TlsSession* session, int fd, absl::Time until,
                               const std::atomic<bool>& cancelled) {
  for (;;) {
    if (cancelled.load(std::memory_order_acquire)) {
      return absl::CancelledError("cancelled by the client");
    }
    absl::StatusOr<TlsSession::Step> step = session->Handshake();
    if (!step.ok()) return step.status();
    if (*step == TlsSession::Step::kDone) return absl::OkStatus();
    pollfd pfd{fd, static_cast<short>(*step == TlsSession::Step::kWantRead ? POLLIN : POLLOUT), 0};
    for (;;) {
      const absl::Duration left = until - absl::Now();
      if (left <= absl::ZeroDuration()) return absl::DeadlineExceededError("handshake timed out");
      const int64_t ms = absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1)));
      const int n = ::poll(&pfd, 1, static_cast<int>(std::min<int64_t>(ms, 1 << 30)));
      // Ready, hung up or failed: the next step (or the cancellation check) says which.
      if (n > 0) break;
      if (n < 0 && errno != EINTR) {
        return absl::UnavailableError(absl::StrCat("TLS handshake: poll failed: ",
                                                   std::strerror(errno)));
      }
      if (cancelled.load(std::memory_order_acquire)) {
        return absl::CancelledError("cancelled by the client");
      }
    }
  }
}

}  // namespace framerpc

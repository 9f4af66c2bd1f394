#include "rpc/client_handshake.h"

namespace framerpc {

ClientHandshake::ClientHandshake(EventLoop* loop, int fd, std::unique_ptr<TlsSession> session,
                                 Done done)
    : watcher_(loop, fd), session_(std::move(session)), done_(std::move(done)) {}

void ClientHandshake::Start() {
  watcher_.set_read_callback([this] { Advance(); });
  watcher_.set_write_callback([this] { Advance(); });
  watcher_.set_error_callback([this] { Advance(); });
  watcher_.EnableWriting();  // the ClientHello goes first
}

void ClientHandshake::Advance() {
  if (!done_) return;
  absl::StatusOr<TlsSession::Step> step = session_->Handshake();
  if (step.ok() && *step == TlsSession::Step::kWantRead) {
    if (watcher_.IsWriting()) watcher_.DisableWriting();
    if (!watcher_.IsReading()) watcher_.EnableReading();
    return;
  }
  if (step.ok() && *step == TlsSession::Step::kWantWrite) {
    if (!watcher_.IsWriting()) watcher_.EnableWriting();
    return;
  }
  Stop();
  Done done = std::move(done_);
  done_ = nullptr;
  done(step.ok() ? absl::OkStatus() : step.status());
}

}  // namespace framerpc

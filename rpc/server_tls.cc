// Server's TLS stage: from a ClientHello on a TLS listener to a framed connection whose bytes go
// through the session (see Server::ListenerTls). The handshake is non-blocking on the accepting
// loop, bounded by ConnectionTimeoutOptions::handshake; a failure or a stall is closed, counted
// (CloseReason::kTlsFailed / kHandshakeTimeout) and logged as a RefusalKind::kTls/kTimeout.
#include <sys/socket.h>

#include "absl/strings/str_cat.h"
#include "transport/envelope.pb.h"
#include "rpc/server.h"
#include "rpc/server_sniffing.h"

namespace framerpc {

void Server::StartHandshake(Sniffing* key) {
  std::shared_ptr<TlsContext> context;
  {
    std::lock_guard<std::mutex> lock(mu_);
    context = tls_context_;
  }
  absl::StatusOr<std::unique_ptr<TlsSession>> session =
      context->NewSession(key->fd.get());
  if (!session.ok()) {
    if (std::shared_ptr<Sniffing> failed = StopSniffing(key)) {
      counts_->Remove(failed->accepted.peer_key);
      stats_.OnClosed(CloseReason::kTlsFailed);
      Refused(RefusalKind::kTls, failed->accepted.peer, session.status().message());
    }
    return;
  }
  key->tls_session = *std::move(session);
  // The first-byte wait is over; the handshake has its own.
  for (TimerId* timer : {&key->first_byte_timer, &key->retry_timer}) {
    if (*timer != 0) key->loop->CancelTimer(*timer);
    *timer = 0;
  }
  key->handshake_timer =
      key->loop->RunAfter(options_.timeouts.handshake, [this, key] { OnHandshakeTimeout(key); });
  key->watcher->set_read_callback([this, key] { OnHandshakeProgress(key); });
  key->watcher->set_write_callback([this, key] { OnHandshakeProgress(key); });
  key->watcher->set_error_callback([this, key] { OnHandshakeProgress(key); });
  OnHandshakeProgress(key);
}

void Server::OnHandshakeProgress(Sniffing* key) {
  absl::StatusOr<TlsSession::Step> step = key->tls_session->Handshake();
  if (step.ok() && *step == TlsSession::Step::kWantRead) {
    if (key->watcher->IsWriting()) key->watcher->DisableWriting();
    if (!key->watcher->IsReading()) key->watcher->EnableReading();
    return;
  }
  if (step.ok() && *step == TlsSession::Step::kWantWrite) {
    if (!key->watcher->IsWriting()) key->watcher->EnableWriting();
    return;
  }
  std::shared_ptr<Sniffing> done = StopSniffing(key);
  if (done == nullptr) return;
  if (!step.ok()) {
    counts_->Remove(done->accepted.peer_key);
    stats_.OnClosed(CloseReason::kTlsFailed);
    Refused(RefusalKind::kTls, done->accepted.peer, step.status().message());
    // OpenSSL has queued its alert on the socket; a graceful close lets the client read it.
    done->tls_session.reset();
    CloseGracefully(done->loop, std::move(done->fd), done->accepted.peer, "", step.status(),
                    absl::Milliseconds(250));
    return;
  }
  PeerIdentity& identity = done->accepted.identity;
  identity.tls = true;
  TlsPeerCertificate peer = done->tls_session->peer_certificate();
  identity.tls_client_certificate = peer.present;
  identity.tls_uri_sans = std::move(peer.uri_sans);
  identity.tls_dns_sans = std::move(peer.dns_sans);
  identity.tls_subject = std::move(peer.subject);
  // ALPN chose framerpc/1, or the client offered none: the framed protocol (TlsContext refuses
  // every other offer in the handshake).
  OnNewConnection(std::move(done->fd), std::move(done->accepted), std::move(done->tls_session));
}

void Server::OnHandshakeTimeout(Sniffing* key) {
  key->handshake_timer = 0;
  if (std::shared_ptr<Sniffing> stalled = StopSniffing(key)) {
    counts_->Remove(stalled->accepted.peer_key);
    stats_.OnClosed(CloseReason::kHandshakeTimeout);
    Refused(RefusalKind::kTimeout, stalled->accepted.peer, "TLS handshake timeout");
  }
}

void Server::RefusePlaintext(Sniffing* key, char first_byte) {
  std::shared_ptr<Sniffing> refused = StopSniffing(key);
  if (refused == nullptr) return;
  counts_->Remove(refused->accepted.peer_key);
  stats_.OnClosed(CloseReason::kTlsFailed);
  const absl::Status refusal = absl::FailedPreconditionError(
      "this listener accepts TLS only: connect with TLS (a CA to trust, and the server's name)");
  Refused(RefusalKind::kTls, refused->accepted.peer, "plaintext on a TLS-only listener");
  std::string frame;
  if (first_byte == kFrameMagic[0]) {  // a framed client: tell it why, in its own protocol
    Envelope envelope;
    envelope.set_kind(CONNECTION_ERROR);
    envelope.set_status_code(static_cast<int>(refusal.code()));
    envelope.set_status_message(std::string(refusal.message()));
    EncodeFrame(std::move(envelope), nullptr, {}, options_.limits, &frame).IgnoreError();
  }
  CloseGracefully(refused->loop, std::move(refused->fd), refused->accepted.peer, std::move(frame),
                  refusal, absl::Milliseconds(250));
}

}  // namespace framerpc

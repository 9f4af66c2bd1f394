#include "transport/tls/tls_session.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "transport/tls/socket_bio.h"

#include "transport/tls/tls_context.h"
#include "transport/tls/tls_errors.h"

namespace framerpc {
namespace {

std::string Asn1Text(const ASN1_IA5STRING* s) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<size_t>(ASN1_STRING_length(s)));
}

}  // namespace

TlsSession::TlsSession(std::shared_ptr<TlsContext> context, SSL* ssl)
    : context_(std::move(context)), ssl_(ssl) {}

TlsSession::~TlsSession() { SSL_free(ssl_); }

absl::StatusOr<TlsSession::Step> TlsSession::Handshake() {
  ERR_clear_error();
  errno = 0;
  const int ret = SSL_do_handshake(ssl_);
  if (ret == 1) return Step::kDone;
  const int error = SSL_get_error(ssl_, ret);
  if (error == SSL_ERROR_WANT_READ) return Step::kWantRead;
  if (error == SSL_ERROR_WANT_WRITE) return Step::kWantWrite;
  return TlsIoError(ssl_, error, "TLS handshake");
}

RecordIo TlsSession::Failed(int ret, const char* what) {
  const int error = SSL_get_error(ssl_, ret);
  RecordIo io;
  switch (error) {
    case SSL_ERROR_WANT_READ:
      io.kind = RecordIo::Kind::kWantRead;
      return io;
    case SSL_ERROR_WANT_WRITE:
      io.kind = RecordIo::Kind::kWantWrite;
      return io;
    case SSL_ERROR_ZERO_RETURN:
      io.kind = RecordIo::Kind::kClosed;
      return io;
    default:
      io.kind = RecordIo::Kind::kError;
      io.error = TlsIoError(ssl_, error, what);
      return io;
  }
}

RecordIo TlsSession::Read(char* data, size_t size) {
  ERR_clear_error();
  errno = 0;
  size_t n = 0;
  const int ret = SSL_read_ex(ssl_, data, size, &n);
  if (ret == 1) return RecordIo{RecordIo::Kind::kOk, n, absl::OkStatus()};
  return Failed(ret, "TLS read");
}

RecordIo TlsSession::Write(const char* data, size_t size) {
  ERR_clear_error();
  errno = 0;
  size_t n = 0;
  const int ret = SSL_write_ex(ssl_, data, size, &n);
  if (ret == 1) return RecordIo{RecordIo::Kind::kOk, n, absl::OkStatus()};
  return Failed(ret, "TLS write");
}

void TlsSession::Cork() { SocketBioCork(SSL_get_wbio(ssl_)); }

RecordIo TlsSession::Uncork() {
  RecordIo io;
  const int sent = SocketBioUncork(SSL_get_wbio(ssl_));
  if (sent == 0) io.kind = RecordIo::Kind::kWantWrite;
  if (sent < 0) {
    io.kind = RecordIo::Kind::kError;
    io.error = absl::UnavailableError(absl::StrCat("TLS write: ", std::strerror(errno)));
  }
  return io;
}

// One BIO reads and writes (TlsContext::NewSession).
void TlsSession::SetDontWait(bool on) { SocketBioSetDontWait(SSL_get_rbio(ssl_), on); }

void TlsSession::ReleaseIdleBuffers() {
  SocketBioReleaseIdle(SSL_get_rbio(ssl_));
  (void)SSL_free_buffers(ssl_);  // refused (0) while they hold data: then they stay
  ERR_clear_error();
}

size_t TlsSession::buffer_bytes_held() const { return SocketBioBytesHeld(SSL_get_rbio(ssl_)); }

bool TlsSession::HasUnsentOutput() const { return SocketBioHasUnsent(SSL_get_wbio(ssl_)); }

// Decrypted bytes not yet read, or bytes the socket BIO has received and not yet handed over.
// Not SSL_has_pending(): it is also 1 while OpenSSL holds part of a record, which only the socket
// can complete, and a connection told so would read again and again until the rest arrived.
bool TlsSession::HasBufferedInput() const {
  return SSL_pending(ssl_) > 0 || SocketBioHasInput(SSL_get_rbio(ssl_));
}

void TlsSession::SendCloseNotify() {
  ERR_clear_error();
  if (SSL_is_init_finished(ssl_)) SSL_shutdown(ssl_);  // one non-blocking attempt
  ERR_clear_error();
}

std::string TlsSession::alpn() const {
  const unsigned char* data = nullptr;
  unsigned int len = 0;
  SSL_get0_alpn_selected(ssl_, &data, &len);
  return std::string(reinterpret_cast<const char*>(data), data == nullptr ? 0 : len);
}

std::string TlsSession::version() const { return SSL_get_version(ssl_); }

bool TlsSession::resumed() const { return SSL_session_reused(ssl_) == 1; }

TlsPeerCertificate TlsSession::peer_certificate() const {
  TlsPeerCertificate peer;
  X509* cert = SSL_get0_peer_certificate(ssl_);
  // Only a certificate that verified counts (verification failures end the handshake, but a
  // server that does not ask may still be sent one).
  if (cert == nullptr || SSL_get_verify_result(ssl_) != X509_V_OK) return peer;
  peer.present = true;
  char subject[256];
  X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof subject);
  peer.subject = subject;
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return peer;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type == GEN_URI) peer.uri_sans.push_back(Asn1Text(name->d.uniformResourceIdentifier));
    if (name->type == GEN_DNS) peer.dns_sans.push_back(Asn1Text(name->d.dNSName));
  }
  GENERAL_NAMES_free(names);
  return peer;
}

}  // namespace framerpc

// TlsSession: one TLS connection over a non-blocking socket, as a state machine that the event
// loop drives: Handshake() until kDone (waiting for readability or writability as it says), then
// Read/Write as a RecordLayer, then SendCloseNotify(). It never blocks and never touches the
// socket's readiness itself.
//
// Ownership: owns its SSL and a reference to its TlsContext; does not own the socket, which must
// stay open while the session lives.
//
// Thread safety: none; one thread at a time (a Connection calls it under its output mutex).
#ifndef FRAMERPC_TRANSPORT_TLS_TLS_SESSION_H_
#define FRAMERPC_TRANSPORT_TLS_TLS_SESSION_H_

#include <memory>
#include <string>
#include <vector>

#include <openssl/ssl.h>

#include "absl/status/statusor.h"
#include "transport/record_layer.h"

namespace framerpc {

class TlsContext;

// The peer's certificate as verified in the handshake. Empty when the peer sent none (a client
// under ClientAuth::kNone or kOptional).
struct TlsPeerCertificate {
  bool present = false;
  std::vector<std::string> uri_sans;  // e.g. spiffe://example.org/ns/prod/sa/api, as they are
  std::vector<std::string> dns_sans;
  std::string subject;  // one line, for logs: "CN=client-a,O=framerpc"
};

class TlsSession final : public RecordLayer {
 public:
  TlsSession(std::shared_ptr<TlsContext> context, SSL* ssl);
  ~TlsSession() override;
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  enum class Step { kDone, kWantRead, kWantWrite };
  // Advances the handshake. An error is UNAVAILABLE naming the cause ("TLS handshake: certificate
  // verify failed: certificate has expired (expired certificate)", "... tlsv1 alert unknown ca").
  // Under TLS 1.3 a client is done before the server has checked the client's certificate: a
  // refusal of it arrives as an alert on the client's first Read.
  absl::StatusOr<Step> Handshake();

  // RecordLayer.
  RecordIo Read(char* data, size_t size) override;
  RecordIo Write(const char* data, size_t size) override;
  bool HasBufferedInput() const override;
  void SendCloseNotify() override;
  void Cork() override;
  RecordIo Uncork() override;
  bool HasUnsentOutput() const override;
  // The socket BIO's drained input buffer and sent gather room, and OpenSSL's record buffers
  // when they hold nothing.
  void ReleaseIdleBuffers() override;

  // Bytes of buffer the socket BIO holds now: received input not yet decrypted and gathered
  // records (OpenSSL's own record buffers are not counted). 0 for an idle session.
  size_t buffer_bytes_held() const;

  // Over a socket in blocking mode, Read/Write/Handshake block as the socket does (with its
  // SO_RCVTIMEO/SO_SNDTIMEO, whose expiry is kWantRead/kWantWrite); with `on`, none of them
  // blocks until SetDontWait(false). A non-blocking socket never blocks either way.
  void SetDontWait(bool on);

  // After the handshake.
  std::string alpn() const;     // the protocol ALPN chose; empty if none
  std::string version() const;  // "TLSv1.3"
  bool resumed() const;         // a session ticket was used
  TlsPeerCertificate peer_certificate() const;

 private:
  RecordIo Failed(int ret, const char* what);

  const std::shared_ptr<TlsContext> context_;
  SSL* const ssl_;
};

}  // namespace framerpc

#endif  // FRAMERPC_TRANSPORT_TLS_TLS_SESSION_H_

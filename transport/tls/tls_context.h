// TlsContext: an OpenSSL 3 SSL_CTX made from TlsServerOptions or TlsClientOptions (certificates
// and keys loaded and checked once), and the factory of TlsSessions over sockets.
//
//   FRPC_ASSIGN_OR_RETURN(std::shared_ptr<TlsContext> tls, TlsContext::NewServer(options));
//   std::unique_ptr<TlsSession> session = tls->NewSession(fd);   // then drive its Handshake()
//
// Ownership: shared. Each session holds its context, so that replacing a server's context (a
// certificate reload) leaves connections made from the old one working until they end.
//
// Thread safety: NewSession() and the accessors are safe from any thread; a client context keeps
// the last session ticket for resumption under a mutex.
#ifndef FRAMERPC_TRANSPORT_TLS_TLS_CONTEXT_H_
#define FRAMERPC_TRANSPORT_TLS_TLS_CONTEXT_H_

#include <memory>
#include <mutex>
#include <string>

#include <openssl/ssl.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "transport/tls/tls_options.h"

namespace framerpc {

class TlsSession;

class TlsContext : public std::enable_shared_from_this<TlsContext> {
 public:
  // INVALID_ARGUMENT naming the file or the option when something cannot be used: a missing or
  // unreadable file, a key that does not match the certificate, client auth without a CA file.
  static absl::StatusOr<std::shared_ptr<TlsContext>> NewServer(const TlsServerOptions& options);
  static absl::StatusOr<std::shared_ptr<TlsContext>> NewClient(const TlsClientOptions& options);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // A session over the connected socket `fd` (not owned; it must stay open while the session
  // lives), not yet handshaken. A client verifies the server against `server_name` (a DNS name or
  // an IP address; the options' server_name wins when set).
  absl::StatusOr<std::unique_ptr<TlsSession>> NewSession(int fd,
                                                         absl::string_view server_name = "");

  bool is_server() const { return server_; }
  // Server: whether it asks clients for certificates.
  ClientAuth client_auth() const { return client_auth_; }

 private:
  TlsContext(SSL_CTX* ctx, bool server);
  // Client: keeps `session` (a new ticket) for the next connection.
  void KeepSession(SSL_SESSION* session);
  static int OnNewSession(SSL* ssl, SSL_SESSION* session);

  SSL_CTX* const ctx_;
  const bool server_;
  ClientAuth client_auth_ = ClientAuth::kNone;
  std::string server_name_;  // client: from the options
  bool resume_ = false;      // client: offer the last ticket
  bool insecure_ = false;    // client: TlsClientOptions::insecure_skip_verify
  std::mutex mu_;
  SSL_SESSION* last_session_ = nullptr;  // guarded by mu_; owned (one reference)
};

}  // namespace framerpc

#endif  // FRAMERPC_TRANSPORT_TLS_TLS_CONTEXT_H_

#include "transport/tls/tls_context.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "transport/tls/socket_bio.h"
#include "transport/tls/tls_errors.h"
#include "transport/tls/tls_session.h"

namespace framerpc {
namespace {

// ALPN wire format: each name with its length byte in front.
const unsigned char kAlpnList[] = {10, 'f', 'r', 'a', 'm', 'e', 'r', 'p', 'c', '/', '1'};

int Version(TlsVersion v) { return v == TlsVersion::kTls12 ? TLS1_2_VERSION : TLS1_3_VERSION; }

// Partial writes and retries from a moved buffer (RecordLayer's contract); buffers given back
// while a connection has nothing in flight, so that idle TLS connections hold no record buffers
// (about 17 KiB each way; at the price of allocating them per busy spell).
constexpr long kModes =
    SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS;

// Server: picks framerpc/1 when the client offers it; a client that offers ALPN without it is
// refused (alert no_application_protocol), one that offers none is served the framed protocol.
int SelectAlpn(SSL*, const unsigned char** out, unsigned char* out_len, const unsigned char* in,
               unsigned int in_len, void*) {
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(&chosen, out_len, kAlpnList, sizeof kAlpnList, in, in_len) !=
      OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

absl::Status LoadKeyPair(SSL_CTX* ctx, const std::string& chain, const std::string& key) {
  if (SSL_CTX_use_certificate_chain_file(ctx, chain.c_str()) != 1) {
    return TlsConfigError(absl::StrCat("certificate chain file ", chain));
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1) {
    return TlsConfigError(absl::StrCat("private key file ", key));
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return TlsConfigError(absl::StrCat("private key file ", key, " does not match ", chain));
  }
  return absl::OkStatus();
}

// Adds the one certificate in `file` to the context's trust store as an anchor of its own.
absl::Status TrustOne(SSL_CTX* ctx, const std::string& file) {
  FILE* f = std::fopen(file.c_str(), "r");
  if (f == nullptr) return absl::InvalidArgumentError(absl::StrCat("cannot open ", file));
  X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (cert == nullptr) return TlsConfigError(absl::StrCat("trusted certificate file ", file));
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  const int added = X509_STORE_add_cert(store, cert);
  X509_free(cert);
  if (added != 1) return TlsConfigError(absl::StrCat("trusted certificate file ", file));
  X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
  return absl::OkStatus();
}

}  // namespace

TlsContext::TlsContext(SSL_CTX* ctx, bool server) : ctx_(ctx), server_(server) {
  SSL_CTX_set_app_data(ctx_, this);
  // No renegotiation (TLS 1.2): a write never has to wait for a read. A TCP close without
  // close_notify reads as the end of the stream, as on a plaintext connection: frames carry their
  // lengths, so a truncation is still seen by the frame decoder.
  SSL_CTX_set_options(ctx_, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF);
  // No read-ahead: OpenSSL reads each record's header and then exactly its body, both from the
  // socket BIO's own input buffer, which takes what the socket has in one recv(2)
  // (transport/tls/socket_bio.h says why not OpenSSL's read-ahead).
  SSL_CTX_set_read_ahead(ctx_, 0);
}

TlsContext::~TlsContext() {
  if (last_session_ != nullptr) SSL_SESSION_free(last_session_);
  SSL_CTX_free(ctx_);
}

absl::StatusOr<std::shared_ptr<TlsContext>> TlsContext::NewServer(const TlsServerOptions& options) {
  if (options.cert_chain_file.empty() || options.private_key_file.empty()) {
    return absl::InvalidArgumentError("a TLS server needs a certificate chain and a private key");
  }
  if (options.client_auth != ClientAuth::kNone && options.client_ca_file.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "client auth ", ClientAuthName(options.client_auth), " needs a client CA file"));
  }
  ERR_clear_error();
  SSL_CTX* raw = SSL_CTX_new(TLS_server_method());
  if (raw == nullptr) return TlsConfigError("SSL_CTX_new");
  std::shared_ptr<TlsContext> context(new TlsContext(raw, /*server=*/true));
  context->client_auth_ = options.client_auth;
  SSL_CTX* ctx = context->ctx_;
  SSL_CTX_set_min_proto_version(ctx, Version(options.min_version));
  SSL_CTX_set_mode(ctx, kModes);
  if (absl::Status loaded = LoadKeyPair(ctx, options.cert_chain_file, options.private_key_file);
      !loaded.ok()) {
    return loaded;
  }
  if (options.client_auth != ClientAuth::kNone) {
    if (SSL_CTX_load_verify_locations(ctx, options.client_ca_file.c_str(), nullptr) != 1) {
      return TlsConfigError(absl::StrCat("client CA file ", options.client_ca_file));
    }
    // The CAs a client may pick its certificate by.
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(options.client_ca_file.c_str());
    if (names != nullptr) SSL_CTX_set_client_CA_list(ctx, names);
    int mode = SSL_VERIFY_PEER;
    if (options.client_auth == ClientAuth::kRequire) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(ctx, mode, nullptr);
  }
  // Resumed sessions carry the verified client certificate; they need a context id.
  static const unsigned char kSessionContext[] = "framerpc";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  if (!options.session_tickets) {
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(ctx, 0);
  } else {
    SSL_CTX_set_num_tickets(ctx, 1);
  }
  SSL_CTX_set_alpn_select_cb(ctx, SelectAlpn, nullptr);
  return context;
}

absl::StatusOr<std::shared_ptr<TlsContext>> TlsContext::NewClient(const TlsClientOptions& options) {
  if (options.cert_chain_file.empty() != options.private_key_file.empty()) {
    return absl::InvalidArgumentError("a client certificate needs its private key, and back");
  }
  if (options.max_version == TlsVersion::kTls12 && options.min_version == TlsVersion::kTls13) {
    return absl::InvalidArgumentError("TLS max version 1.2 is below the min version 1.3");
  }
  ERR_clear_error();
  SSL_CTX* raw = SSL_CTX_new(TLS_client_method());
  if (raw == nullptr) return TlsConfigError("SSL_CTX_new");
  std::shared_ptr<TlsContext> context(new TlsContext(raw, /*server=*/false));
  context->server_name_ = options.server_name;
  context->resume_ = options.session_resumption;
  SSL_CTX* ctx = context->ctx_;
  SSL_CTX_set_min_proto_version(ctx, Version(options.min_version));
  SSL_CTX_set_max_proto_version(ctx, Version(options.max_version));
  SSL_CTX_set_mode(ctx, kModes);
  SSL_CTX_set_verify(ctx, options.insecure_skip_verify ? SSL_VERIFY_NONE : SSL_VERIFY_PEER,
                     nullptr);
  context->insecure_ = options.insecure_skip_verify;
  if (!options.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, options.ca_file.c_str(), nullptr) != 1) {
      return TlsConfigError(absl::StrCat("CA file ", options.ca_file));
    }
  }
  if (!options.trusted_cert_file.empty()) {
    if (absl::Status trusted = TrustOne(ctx, options.trusted_cert_file); !trusted.ok()) {
      return trusted;
    }
  }
  if (options.ca_file.empty() && options.trusted_cert_file.empty() &&
      SSL_CTX_set_default_verify_paths(ctx) != 1) {
    return TlsConfigError("the system's default CA paths");
  }
  if (!options.cert_chain_file.empty()) {
    if (absl::Status loaded = LoadKeyPair(ctx, options.cert_chain_file, options.private_key_file);
        !loaded.ok()) {
      return loaded;
    }
  }
  if (SSL_CTX_set_alpn_protos(ctx, kAlpnList, sizeof kAlpnList) != 0) {
    return TlsConfigError("ALPN");
  }
  if (options.session_resumption) {
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx, &TlsContext::OnNewSession);
  }
  return context;
}

int TlsContext::OnNewSession(SSL* ssl, SSL_SESSION* session) {
  auto* self = static_cast<TlsContext*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
  // A copy: OpenSSL marks the connection's own session unresumable when the connection ends
  // without close_notify (a reset, a server that died), which is when resuming matters most.
  SSL_SESSION* copy = SSL_SESSION_dup(session);
  if (copy != nullptr) self->KeepSession(copy);
  return 0;  // OpenSSL keeps (and frees) its own reference
}

void TlsContext::KeepSession(SSL_SESSION* session) {
  std::lock_guard<std::mutex> lock(mu_);
  if (last_session_ != nullptr) SSL_SESSION_free(last_session_);
  last_session_ = session;
}

absl::StatusOr<std::unique_ptr<TlsSession>> TlsContext::NewSession(int fd,
                                                                   absl::string_view server_name) {
  ERR_clear_error();
  SSL* ssl = SSL_new(ctx_);
  if (ssl == nullptr) return TlsConfigError("SSL_new");
  auto session = std::make_unique<TlsSession>(shared_from_this(), ssl);
  BIO* bio = NewNoSigpipeSocketBio(fd);
  if (bio == nullptr) return TlsConfigError("BIO_new");
  SSL_set_bio(ssl, bio, bio);  // one reference, taken by the SSL
  if (server_) {
    SSL_set_accept_state(ssl);
    return session;
  }
  SSL_set_connect_state(ssl);
  const std::string name = !server_name_.empty() ? server_name_ : std::string(server_name);
  if (name.empty() && !insecure_) {
    return absl::InvalidArgumentError(
        "TLS needs a server name to verify (none given, and the target has no host name)");
  }
  if (insecure_) {
    if (!name.empty()) SSL_set_tlsext_host_name(ssl, name.c_str());
    return session;
  }
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  unsigned char ip[16];
  if (inet_pton(AF_INET, name.c_str(), ip) == 1 || inet_pton(AF_INET6, name.c_str(), ip) == 1) {
    if (X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str()) != 1) {
      return TlsConfigError(absl::StrCat("server name ", name));
    }
  } else {
    if (SSL_set1_host(ssl, name.c_str()) != 1 || SSL_set_tlsext_host_name(ssl, name.c_str()) != 1) {
      return TlsConfigError(absl::StrCat("server name ", name));
    }
  }
  if (resume_) {
    std::lock_guard<std::mutex> lock(mu_);
    if (last_session_ != nullptr) SSL_set_session(ssl, last_session_);
  }
  return session;
}

}  // namespace framerpc

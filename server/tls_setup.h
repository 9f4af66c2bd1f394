// framerpc_server's TLS flags (--tls_*) turned into a server TlsContext and the listeners' TLS
// mode, and the rule that a service admitting TLS client identities needs listeners that verify
// client certificates. Kept out of main.cc so that it can be tested. See docs/security.md.
#ifndef FRAMERPC_SERVER_TLS_SETUP_H_
#define FRAMERPC_SERVER_TLS_SETUP_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "rpc/server.h"
#include "services/auth/access_policy.h"
#include "transport/tls/tls_context.h"

namespace framerpc::server {

struct TlsFlags {
  std::string cert;        // --tls_cert; empty: no TLS
  std::string key;         // --tls_key
  std::string client_ca;   // --tls_client_ca
  std::string client_auth = "none";  // --tls_client_auth: none | optional | require
  std::string min_version = "1.3";   // --tls_min_version: 1.2 | 1.3
  bool shared_port = false;          // --tls_shared_port: plaintext served on the same ports
};

struct TlsSetup {
  std::shared_ptr<TlsContext> context;  // null: no TLS
  TlsServerOptions options;             // what `context` was made from (for the gRPC port)
  Server::ListenerTls listeners = Server::ListenerTls::kOff;
  ClientAuth client_auth = ClientAuth::kNone;
  // "TLS only, TLS 1.3, client certificates required (CA /etc/ca.pem)", or "off".
  std::string description;
};

// INVALID_ARGUMENT naming the flag for a bad value, a key without a certificate (or back), client
// auth without --tls_client_ca, or a file TlsContext cannot use.
absl::StatusOr<TlsSetup> BuildTlsSetup(const TlsFlags& flags);

// FAILED_PRECONDITION when `access` (of `subject`, named by `identities_flag`) admits TLS client
// identities but no listener asks for client certificates: those calls could never be admitted.
absl::Status CheckIdentitiesAreVerified(const auth::AccessPolicy& access, const TlsSetup& tls,
                                        const std::string& subject,
                                        const std::string& identities_flag);

}  // namespace framerpc::server

#endif  // FRAMERPC_SERVER_TLS_SETUP_H_

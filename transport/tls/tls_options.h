// What a TLS endpoint is configured with: files and policy, no OpenSSL types. TlsContext
// (tls_context.h) turns them into a context. Value types.
#ifndef FRAMERPC_TRANSPORT_TLS_TLS_OPTIONS_H_
#define FRAMERPC_TRANSPORT_TLS_TLS_OPTIONS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace framerpc {

enum class TlsVersion { kTls12, kTls13 };

// Whether a server asks for a client certificate. A certificate that is sent is always verified
// against client_ca_file, and a bad one always fails the handshake.
enum class ClientAuth {
  kNone,      // not asked for
  kOptional,  // asked for; a client without one is admitted, with no certificate identity
  kRequire,   // a client without one fails the handshake (TLS 1.3 alert certificate_required)
};

// "none" | "optional" | "require".
absl::StatusOr<ClientAuth> ParseClientAuth(absl::string_view text);
const char* ClientAuthName(ClientAuth auth);
// "1.2" | "1.3".
absl::StatusOr<TlsVersion> ParseTlsVersion(absl::string_view text);
const char* TlsVersionName(TlsVersion version);

// The ALPN name of the framed protocol (docs/security.md).
inline constexpr absl::string_view kFramedAlpn = "framerpc/1";

struct TlsServerOptions {
  // PEM: the server's certificate followed by its intermediates, and its private key.
  std::string cert_chain_file;
  std::string private_key_file;
  // PEM: the CAs that client certificates must chain to; required unless client_auth is kNone.
  std::string client_ca_file;
  ClientAuth client_auth = ClientAuth::kNone;
  // TLS 1.3 unless 1.2 is allowed on purpose.
  TlsVersion min_version = TlsVersion::kTls13;
  // TLS 1.3 session tickets, so that a client reconnecting skips the certificate exchange.
  bool session_tickets = true;
};

struct TlsClientOptions {
  // PEM: the CAs the server's certificate must chain to. Empty: OpenSSL's default paths (the
  // system's trust store), unless trusted_cert_file is set.
  std::string ca_file;
  // PEM: one certificate trusted as it is (it need not be a CA nor self-signed), e.g. a test
  // server's own certificate. The name is still checked.
  std::string trusted_cert_file;
  // PEM: a client certificate (with intermediates) and its key, for servers that ask for one.
  std::string cert_chain_file;
  std::string private_key_file;
  // The name the server's certificate must carry (a DNS name, or an IP address matched against
  // the certificate's IP SANs); also sent as SNI when it is a name. Empty: the host of the target.
  std::string server_name;
  TlsVersion min_version = TlsVersion::kTls13;
  TlsVersion max_version = TlsVersion::kTls13;
  // Keep the last session ticket the server sent and offer it on the next connection.
  bool session_resumption = true;
  // DANGEROUS, for trying things out (framerpc_cli -insecure, as grpcurl's): the server's
  // certificate and name are not checked at all, so anyone on the path can read and change
  // everything. The bytes are still encrypted.
  bool insecure_skip_verify = false;
};

}  // namespace framerpc

#endif  // FRAMERPC_TRANSPORT_TLS_TLS_OPTIONS_H_

#include "server/tls_setup.h"

#include "absl/strings/str_cat.h"

namespace framerpc::server {

absl::StatusOr<TlsSetup> BuildTlsSetup(const TlsFlags& flags) {
  TlsSetup setup;
  setup.description = "off";
  absl::StatusOr<ClientAuth> auth = ParseClientAuth(flags.client_auth);
  if (!auth.ok()) return absl::InvalidArgumentError(absl::StrCat("--tls_client_auth: ", auth.status().message()));
  absl::StatusOr<TlsVersion> version = ParseTlsVersion(flags.min_version);
  if (!version.ok()) return absl::InvalidArgumentError(absl::StrCat("--tls_min_version: ", version.status().message()));
  if (flags.cert.empty()) {
    if (!flags.key.empty() || !flags.client_ca.empty() || *auth != ClientAuth::kNone ||
        flags.shared_port) {
      return absl::InvalidArgumentError(
          "--tls_key, --tls_client_ca, --tls_client_auth and --tls_shared_port need --tls_cert");
    }
    return setup;
  }
  if (flags.key.empty()) return absl::InvalidArgumentError("--tls_cert needs --tls_key");
  if (*auth != ClientAuth::kNone && flags.client_ca.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tls_client_auth=", flags.client_auth, " needs --tls_client_ca"));
  }
  TlsServerOptions options;
  options.cert_chain_file = flags.cert;
  options.private_key_file = flags.key;
  options.client_ca_file = flags.client_ca;
  options.client_auth = *auth;
  options.min_version = *version;
  absl::StatusOr<std::shared_ptr<TlsContext>> context = TlsContext::NewServer(options);
  if (!context.ok()) return context.status();
  setup.context = *std::move(context);
  setup.options = options;
  setup.client_auth = *auth;
  setup.listeners =
      flags.shared_port ? Server::ListenerTls::kOptional : Server::ListenerTls::kRequired;
  setup.description = absl::StrCat(
      flags.shared_port ? "TLS and plaintext on the same ports" : "TLS only", ", TLS ",
      TlsVersionName(*version), "+, client certificates ",
      *auth == ClientAuth::kNone
          ? "not asked for"
          : absl::StrCat(*auth == ClientAuth::kRequire ? "required" : "optional", " (CA ",
                         flags.client_ca, ")"));
  return setup;
}

absl::Status CheckIdentitiesAreVerified(const auth::AccessPolicy& access, const TlsSetup& tls,
                                        const std::string& subject,
                                        const std::string& identities_flag) {
  if (access.tls_identities().empty()) return absl::OkStatus();
  if (tls.context == nullptr || tls.client_auth == ClientAuth::kNone) {
    return absl::FailedPreconditionError(absl::StrCat(
        subject, " admits TLS client identities (", identities_flag,
        "), but no listener asks for client certificates: give --tls_cert, --tls_key, "
        "--tls_client_ca and --tls_client_auth=require (or optional)"));
  }
  return absl::OkStatus();
}

}  // namespace framerpc::server

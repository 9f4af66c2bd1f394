#include "cli/grpc_connect.h"

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_certificate_verifier.h"
#include "grpcpp/security/tls_credentials_options.h"
#include "grpcpp/support/channel_arguments.h"

namespace framerpc::cli {
namespace {

absl::StatusOr<std::string> ReadPem(const std::string& path, const char* flag) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream contents;
  if (file) contents << file.rdbuf();
  if (!file || file.bad()) {
    return absl::InvalidArgumentError(absl::StrCat(flag, " ", path, ": cannot be read"));
  }
  return std::move(contents).str();
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> TlsCredentials(
    const TlsClientOptions& tls) {
  if (tls.cert_chain_file.empty() != tls.private_key_file.empty()) {
    return absl::InvalidArgumentError("-cert and -key go together");
  }
  std::string key;
  std::string chain;
  if (!tls.cert_chain_file.empty()) {
    FRPC_ASSIGN_OR_RETURN(chain, ReadPem(tls.cert_chain_file, "-cert"));
    FRPC_ASSIGN_OR_RETURN(key, ReadPem(tls.private_key_file, "-key"));
  }
  if (!tls.insecure_skip_verify) {
    grpc::SslCredentialsOptions ssl;
    if (!tls.ca_file.empty()) {
      FRPC_ASSIGN_OR_RETURN(ssl.pem_root_certs, ReadPem(tls.ca_file, "-cacert"));
    }
    ssl.pem_private_key = std::move(key);
    ssl.pem_cert_chain = std::move(chain);
    return grpc::SslCredentials(ssl);
  }
  grpc::experimental::TlsChannelCredentialsOptions options;
  if (!chain.empty()) {
    options.set_certificate_provider(
        std::make_shared<grpc::experimental::StaticDataCertificateProvider>(
            std::vector<grpc::experimental::IdentityKeyCertPair>{{key, chain}}));
    options.watch_identity_key_cert_pairs();
  }
  options.set_verify_server_certs(false);
  options.set_check_call_host(false);
  options.set_certificate_verifier(
      std::make_shared<grpc::experimental::NoOpCertificateVerifier>());
  return grpc::experimental::TlsCredentials(options);
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::Channel>> GrpcConnect(const CliOptions& options) {
  grpc::ChannelArguments arguments;
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (options.tls.has_value()) {
    FRPC_ASSIGN_OR_RETURN(credentials, TlsCredentials(*options.tls));
    if (!options.tls->server_name.empty()) {
      arguments.SetSslTargetNameOverride(options.tls->server_name);
    }
  }
  return grpc::CreateCustomChannel(options.address, credentials, arguments);
}

}  // namespace framerpc::cli

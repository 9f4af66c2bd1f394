#include "server/exposure.h"

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "server/command_setup.h"
#include "services/auth/local_address.h"

namespace framerpc::server {
namespace {

// The first address of `addresses` that other hosts can reach, or "".
std::string FirstNonLocal(const std::vector<std::string>& addresses) {
  for (const std::string& address : addresses) {
    if (!auth::IsLocalOnlyAddress(address)) return address;
  }
  return "";
}

absl::Status CheckGrpc(const Exposure& exposure) {
  if (exposure.grpc_allow_nonlocal) return absl::OkStatus();
  std::vector<std::string> grpc;
  if (!exposure.grpc_port.empty()) grpc.push_back(exposure.grpc_port);
  if (exposure.grpc_same_port) grpc.insert(grpc.end(), exposure.framed.begin(), exposure.framed.end());
  if (const std::string address = FirstNonLocal(grpc); !address.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "gRPC on ", address, " would be reachable from other hosts; Debian's gRPC 1.51 lacks "
        "later HTTP/2 security fixes (docs/grpc_adapter.md). Pass --grpc_allow_nonlocal to do "
        "it anyway."));
  }
  return absl::OkStatus();
}

// Issue 14: credentials and commands (or file contents) must not cross the network in clear.
absl::Status CheckPlaintext(const Exposure& exposure, const ProtectedServices& services) {
  const bool writable_files = services.files != nullptr && services.files->root.writable;
  const bool command = services.command_access != nullptr;
  if ((!command && !writable_files) || exposure.accept_plaintext) return absl::OkStatus();
  std::vector<std::string> plaintext;
  if (!exposure.framed_tls || exposure.framed_plaintext_too) plaintext = exposure.framed;
  if (!exposure.grpc_port.empty() && !exposure.grpc_port_tls) {
    plaintext.push_back(exposure.grpc_port);
  }
  if (const std::string address = FirstNonLocal(plaintext); !address.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        command ? "the command service" : "the writable file service",
        " would take credentials and ", command ? "commands" : "files", " in plaintext on ",
        address,
        ", which other hosts can reach: serve it over TLS (--tls_cert, --tls_key), or say "
        "--accept_plaintext if the network is trusted"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckExposure(const Exposure& exposure, const ProtectedServices& services) {
  FRPC_RETURN_IF_ERROR(CheckGrpc(exposure));
  FRPC_RETURN_IF_ERROR(CheckPlaintext(exposure, services));
  // Every address a protected service is served on, whatever the transport (gRPC on the shared
  // port is already among the framed addresses).
  std::vector<std::string> served = exposure.framed;
  if (!exposure.grpc_port.empty()) served.push_back(exposure.grpc_port);
  if (services.command_access != nullptr) {
    FRPC_RETURN_IF_ERROR(CheckCommandServiceExposure(served, *services.command_access));
  }
  if (services.files != nullptr) {
    FRPC_RETURN_IF_ERROR(file::CheckFileServiceExposure(*services.files, served));
  }
  return absl::OkStatus();
}

}  // namespace framerpc::server

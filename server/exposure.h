// Where framerpc_server serves what, over every transport, and the one check that decides whether
// it may start: which services take credentials or files, and which addresses other hosts can
// reach, in plaintext or TLS, framed or gRPC. UDP hosts the echo service only (never the command
// or file service: a datagram's source can be forged), so its addresses need no rule.
//
// Pure functions of their arguments; thread-safe.
#ifndef FRAMERPC_SERVER_EXPOSURE_H_
#define FRAMERPC_SERVER_EXPOSURE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "services/auth/access_policy.h"
#include "services/file/file_service.h"

namespace framerpc::server {

// Every address the server would accept calls on, as bound (numeric), and how.
struct Exposure {
  std::vector<std::string> framed;  // the --listen addresses
  bool framed_tls = false;          // TLS on them (--tls_cert)...
  bool framed_plaintext_too = false;  // ...and plaintext beside it (--tls_shared_port)
  std::string grpc_port;            // --grpc_listen: gRPC on a port of its own; "" for none
  bool grpc_port_tls = false;
  bool grpc_same_port = false;      // gRPC on the framed addresses too (--grpc_same_port)
  // The operator's overrides: gRPC (Debian's 1.51) on addresses other hosts can reach, and
  // credentials or files in plaintext on such addresses.
  bool grpc_allow_nonlocal = false;
  bool accept_plaintext = false;
};

// The services whose exposure is ruled on; null for one that is not served.
struct ProtectedServices {
  const auth::AccessPolicy* command_access = nullptr;
  const file::FileServiceOptions* files = nullptr;
};

// OK, or FAILED_PRECONDITION saying what would be exposed where and which flag allows it:
// - gRPC on an address other hosts can reach, without grpc_allow_nonlocal;
// - the command service or a writable file service on such an address in plaintext, without
//   accept_plaintext;
// - the command service admitting calls there without a credential, or accepting only Unix uids
//   with no Unix socket to use (CheckCommandServiceExposure);
// - the file service open there (CheckFileServiceExposure).
absl::Status CheckExposure(const Exposure& exposure, const ProtectedServices& services);

}  // namespace framerpc::server

#endif  // FRAMERPC_SERVER_EXPOSURE_H_

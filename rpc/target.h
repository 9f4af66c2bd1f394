// Channel targets in gRPC's syntax, for channels over several servers (rpc/balanced_channel.h):
//
//   ipv4:127.0.0.1:7001,127.0.0.1:7002      a static list (ipv6:[::1]:7001,[::1]:7002 alike)
//   127.0.0.1:7001,127.0.0.1:7002           the same, without the scheme
//   dns:///host:port  (or dns:host:port)     every A and AAAA record of host, re-resolved
//   <scheme>:...                             a naming system registered with
//                                            RegisterResolverScheme (etcd:, naming/)
//
// A single "host:port", "[v6]:port", "unix:/path" or "udp:..." is not one of these: Channel::Create
// serves it with one connection, as before.
//
// Pure functions; thread-safe.
#ifndef FRAMERPC_RPC_TARGET_H_
#define FRAMERPC_RPC_TARGET_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace framerpc {

struct Target {
  enum class Kind { kStatic, kDns, kRegistered };
  Kind kind = Kind::kStatic;
  std::vector<std::string> addresses;  // kStatic: each a SocketAddress ("127.0.0.1:7001")
  std::string host;                    // kDns
  std::string port;                    // kDns
  std::string scheme;                  // kRegistered: the whole target goes to its factory
};

// Whether `text` names several servers or a resolver: ipv4:, ipv6:, dns:, a registered scheme,
// or a comma.
bool IsBalancedTarget(absl::string_view text);

// INVALID_ARGUMENT naming what is wrong: an empty list, an address that does not parse (or is
// not of the scheme's family), a dns: target with an authority (dns://8.8.8.8/...: only the
// system resolver is used) or without a port.
absl::StatusOr<Target> ParseTarget(absl::string_view text);

}  // namespace framerpc

#endif  // FRAMERPC_RPC_TARGET_H_

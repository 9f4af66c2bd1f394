// PeerIdentity: what the transport itself established about the peer of a call, as opposed to
// what the call claims in its metadata. Services base access decisions on it (services/auth).
// Value type; thread-compatible.
#ifndef FRAMERPC_RPC_PEER_IDENTITY_H_
#define FRAMERPC_RPC_PEER_IDENTITY_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace framerpc {

struct PeerIdentity {
  // The peer is on this host: its address is loopback (127.0.0.0/8, ::1) or it came through a
  // Unix socket. Any local user may be such a peer.
  bool local = false;
  // On a Unix-socket connection, the peer process's credentials when it connected
  // (SO_PEERCRED, vouched for by the kernel). Unset for every other transport.
  std::optional<uid_t> unix_uid;
  std::optional<gid_t> unix_gid;
  std::optional<pid_t> unix_pid;

  // The connection is TLS (its handshake done).
  bool tls = false;
  // The client's certificate, verified against the server's client CAs in the handshake: its URI
  // SANs (SPIFFE IDs as they are) and DNS SANs, and its subject for logs. Empty without one.
  bool tls_client_certificate = false;
  std::vector<std::string> tls_uri_sans;
  std::vector<std::string> tls_dns_sans;
  std::string tls_subject;

  // "local", "remote", "unix uid 0 gid 0 pid 42", "remote tls spiffe://td/a": for logs and
  // messages.
  std::string DebugString() const;
};

}  // namespace framerpc

#endif  // FRAMERPC_RPC_PEER_IDENTITY_H_

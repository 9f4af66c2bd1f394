// PeerKey: who a peer is, for limits counted per peer (connections: rpc/connection_counts.h;
// the file service's transfer slots). The peer of a TCP connection is its IP address, without
// the port, so that one host's connections count together; of a Unix-socket connection, the uid
// the kernel reported for it (SO_PEERCRED), so that one local user's do.
//
// Pure functions; thread-safe.
#ifndef FRAMERPC_RPC_PEER_KEY_H_
#define FRAMERPC_RPC_PEER_KEY_H_

#include <string>

#include "absl/strings/string_view.h"
#include "rpc/context.h"
#include "rpc/peer_identity.h"
#include "transport/socket_address.h"

namespace framerpc {

// "10.1.2.3", "[::1]", "unix uid 1000" ("unix" when the kernel gave no credentials).
std::string PeerKey(const SocketAddress& peer, const PeerIdentity& identity);

// The same key from the text a call's ServerContext::peer() holds: an address as SocketAddress
// prints it ("10.1.2.3:4567", "[::1]:80", "unix:/path"), or as gRPC names a peer on the adapter's
// own port ("ipv4:10.1.2.3:4567", "ipv6:[::1]:80", also with the brackets percent-encoded,
// "unix:/path", "unix-abstract:name"). A peer on a Unix socket whose uid is unknown (gRPC does
// not report it) is "unix". Text that names no address is kept whole, or as "[host]" when it is
// "[host]:port" (an IPv6 address with a zone, which SocketAddress does not parse).
std::string PeerKey(absl::string_view peer, const PeerIdentity& identity);

// The key of the peer calling through `context`.
std::string PeerKey(const ServerContext& context);

}  // namespace framerpc

#endif  // FRAMERPC_RPC_PEER_KEY_H_

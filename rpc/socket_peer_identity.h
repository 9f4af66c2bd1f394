// The PeerIdentity of an accepted socket: loopback or not from its address, and on a Unix socket
// the peer's credentials from the kernel (SO_PEERCRED). Thread-safe (one getsockopt).
#ifndef FRAMERPC_RPC_SOCKET_PEER_IDENTITY_H_
#define FRAMERPC_RPC_SOCKET_PEER_IDENTITY_H_

#include "rpc/peer_identity.h"
#include "transport/socket_address.h"

namespace framerpc {

// `fd` is the accepted connection, `peer` its address as accept() gave it.
PeerIdentity SocketPeerIdentity(int fd, const SocketAddress& peer);

}  // namespace framerpc

#endif  // FRAMERPC_RPC_SOCKET_PEER_IDENTITY_H_

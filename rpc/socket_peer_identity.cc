#include "rpc/socket_peer_identity.h"

#include <sys/socket.h>

namespace framerpc {

PeerIdentity SocketPeerIdentity(int fd, const SocketAddress& peer) {
  PeerIdentity identity;
  identity.local = peer.is_loopback();
  if (peer.is_unix()) {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && len == sizeof cred) {
      identity.unix_uid = cred.uid;
      identity.unix_gid = cred.gid;
      identity.unix_pid = cred.pid;
    }
  }
  return identity;
}

}  // namespace framerpc

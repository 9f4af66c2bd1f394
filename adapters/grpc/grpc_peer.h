// Who is calling through the gRPC adapter. gRPC names a call's peer by a string: "ipv4:1.2.3.4:5",
// "ipv6:[::1]:5", "unix:/path" for its own listeners, and "fd:N" for a connection handed to it
// with AdoptConnection. AdoptedPeers remembers, for each adopted fd, the address and PeerIdentity
// the framed transport saw at accept (Unix-socket credentials included), so that calls on the
// shared port are known as well as framed ones.
//
// Thread safety: AdoptedPeers is thread-safe; GrpcPeerIdentity is a pure function.
#ifndef FRAMERPC_ADAPTERS_GRPC_GRPC_PEER_H_
#define FRAMERPC_ADAPTERS_GRPC_GRPC_PEER_H_

#include <mutex>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "rpc/peer_identity.h"

namespace framerpc::grpc_adapter {

// The identity a gRPC peer string names: local for loopback addresses and Unix sockets. No Unix
// credentials: gRPC does not report them.
PeerIdentity GrpcPeerIdentity(absl::string_view grpc_peer);

class AdoptedPeers {
 public:
  // Records the peer of adopted fd `fd`, replacing what an earlier connection with the same fd
  // number left. An fd cannot be reused while its connection is open, and calls keep their
  // connection open, so a call's "fd:N" always finds its own connection's entry.
  void Record(int fd, std::string address, const PeerIdentity& identity);

  // For a call whose gRPC peer is `grpc_peer`: the address to show (the recorded one for "fd:N")
  // and the identity.
  void Resolve(absl::string_view grpc_peer, std::string* address, PeerIdentity* identity) const;

 private:
  struct Entry {
    std::string address;
    PeerIdentity identity;
  };
  mutable std::mutex mu_;
  absl::flat_hash_map<int, Entry> by_fd_;  // guarded by mu_
};

}  // namespace framerpc::grpc_adapter

#endif  // FRAMERPC_ADAPTERS_GRPC_GRPC_PEER_H_

#include "adapters/grpc/grpc_peer.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"

namespace framerpc::grpc_adapter {
namespace {

// "1.2.3.4:5" or "[::1]:5": the host part.
std::string HostOf(absl::string_view address) {
  if (absl::StartsWith(address, "[")) {
    const size_t close = address.find(']');
    return close == absl::string_view::npos ? "" : std::string(address.substr(1, close - 1));
  }
  return std::string(address.substr(0, address.rfind(':')));
}

bool IsLoopbackV4(const std::string& host) {
  in_addr v4;
  return ::inet_pton(AF_INET, host.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127;
}

bool IsLoopbackV6(const std::string& host) {
  in6_addr v6;
  if (::inet_pton(AF_INET6, host.c_str(), &v6) != 1) return false;
  return IN6_IS_ADDR_LOOPBACK(&v6) || (IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127);
}

}  // namespace

PeerIdentity GrpcPeerIdentity(absl::string_view grpc_peer) {
  PeerIdentity identity;
  if (absl::StartsWith(grpc_peer, "unix:") || absl::StartsWith(grpc_peer, "unix-abstract:")) {
    identity.local = true;
  } else if (absl::StartsWith(grpc_peer, "ipv4:")) {
    identity.local = IsLoopbackV4(HostOf(grpc_peer.substr(5)));
  } else if (absl::StartsWith(grpc_peer, "ipv6:")) {
    identity.local = IsLoopbackV6(HostOf(grpc_peer.substr(5)));
  }
  return identity;
}

void AdoptedPeers::Record(int fd, std::string address, const PeerIdentity& identity) {
  std::lock_guard<std::mutex> lock(mu_);
  by_fd_[fd] = Entry{std::move(address), identity};
}

void AdoptedPeers::Resolve(absl::string_view grpc_peer, std::string* address,
                           PeerIdentity* identity) const {
  int fd = -1;
  if (absl::StartsWith(grpc_peer, "fd:") && absl::SimpleAtoi(grpc_peer.substr(3), &fd)) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = by_fd_.find(fd);
    if (it != by_fd_.end()) {
      *address = it->second.address;
      *identity = it->second.identity;
      return;
    }
  }
  *address = std::string(grpc_peer);
  *identity = GrpcPeerIdentity(grpc_peer);
}

}  // namespace framerpc::grpc_adapter

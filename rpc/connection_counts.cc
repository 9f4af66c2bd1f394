#include "rpc/connection_counts.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "absl/strings/str_cat.h"

namespace framerpc {

std::string PeerKey(const SocketAddress& peer, const PeerIdentity& identity) {
  if (peer.is_unix()) {
    return identity.unix_uid.has_value() ? absl::StrCat("unix uid ", *identity.unix_uid) : "unix";
  }
  char text[INET6_ADDRSTRLEN] = {};
  if (peer.family() == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(peer.sockaddr_ptr())->sin_addr,
                text, sizeof text);
    return text;
  }
  ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(peer.sockaddr_ptr())->sin6_addr,
              text, sizeof text);
  return absl::StrCat("[", text, "]");
}

ConnectionCounts::Verdict ConnectionCounts::TryAdmit(const std::string& peer) {
  std::lock_guard<std::mutex> lock(mu_);
  if (total_ >= max_total_) return Verdict::kOverTotal;
  if (max_per_peer_ > 0) {
    auto it = peers_.find(peer);
    if (it != peers_.end() && it->second >= max_per_peer_) return Verdict::kOverPeer;
  }
  ++total_;
  ++peers_[peer];
  return Verdict::kAdmit;
}

void ConnectionCounts::Add(const std::string& peer) {
  std::lock_guard<std::mutex> lock(mu_);
  ++total_;
  ++peers_[peer];
}

void ConnectionCounts::Remove(const std::string& peer) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = peers_.find(peer);
  if (it == peers_.end()) return;
  --total_;
  if (--it->second == 0) peers_.erase(it);
}

size_t ConnectionCounts::total() const {
  std::lock_guard<std::mutex> lock(mu_);
  return total_;
}

size_t ConnectionCounts::from(const std::string& peer) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = peers_.find(peer);
  return it == peers_.end() ? 0 : it->second;
}

}  // namespace framerpc

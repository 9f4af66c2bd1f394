#include "rpc/connection_counts.h"

namespace framerpc {

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

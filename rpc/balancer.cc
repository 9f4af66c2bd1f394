#include "rpc/balancer.h"

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <string_view>

#include "absl/strings/str_cat.h"

namespace framerpc {
namespace {

// The indices of the endpoints that are not ejected, or of all when every one is.
std::vector<size_t> Candidates(absl::Span<const EndpointView> endpoints) {
  std::vector<size_t> out;
  for (size_t i = 0; i < endpoints.size(); ++i) {
    if (!endpoints[i].ejected) out.push_back(i);
  }
  if (out.empty()) {
    for (size_t i = 0; i < endpoints.size(); ++i) out.push_back(i);
  }
  return out;
}

class PickFirst final : public Balancer {
 public:
  size_t Pick(absl::Span<const EndpointView> endpoints, absl::string_view) override {
    return Candidates(endpoints).front();
  }
};

class RoundRobin final : public Balancer {
 public:
  size_t Pick(absl::Span<const EndpointView> endpoints, absl::string_view) override {
    const std::vector<size_t> candidates = Candidates(endpoints);
    return candidates[next_.fetch_add(1, std::memory_order_relaxed) % candidates.size()];
  }

 private:
  std::atomic<uint64_t> next_{0};
};

class LeastRequest final : public Balancer {
 public:
  size_t Pick(absl::Span<const EndpointView> endpoints, absl::string_view) override {
    const std::vector<size_t> candidates = Candidates(endpoints);
    if (candidates.size() == 1) return candidates[0];
    size_t a, b;
    {
      std::lock_guard<std::mutex> lock(mu_);
      std::uniform_int_distribution<size_t> pick(0, candidates.size() - 1);
      a = candidates[pick(random_)];
      do {
        b = candidates[pick(random_)];
      } while (b == a);
    }
    return endpoints[b].in_flight < endpoints[a].in_flight ? b : a;
  }

 private:
  std::mutex mu_;
  std::minstd_rand random_{std::random_device{}()};  // guarded by mu_
};

// A ring of kPointsPerEndpoint points per endpoint; a key goes to the first point at or after its
// hash, skipping ejected endpoints. std::hash of strings is the same in every process of a build,
// so clients agree on where a key goes. The ring is rebuilt only when the endpoints change.
class RingHash final : public Balancer {
 public:
  size_t Pick(absl::Span<const EndpointView> endpoints, absl::string_view hash) override {
    if (hash.empty()) return round_robin_.Pick(endpoints, hash);
    bool any_ready = false;
    for (const EndpointView& e : endpoints) any_ready |= !e.ejected;
    std::lock_guard<std::mutex> lock(mu_);
    Rebuild(endpoints);
    auto it = ring_.lower_bound(Hash(hash));
    for (size_t steps = 0; steps < ring_.size(); ++steps, ++it) {
      if (it == ring_.end()) it = ring_.begin();
      if (!any_ready || !endpoints[it->second].ejected) return it->second;
    }
    return 0;
  }

 private:
  static constexpr int kPointsPerEndpoint = 64;
  static uint64_t Hash(absl::string_view text) {
    return std::hash<std::string_view>{}(std::string_view(text.data(), text.size()));
  }

  // Under mu_.
  void Rebuild(absl::Span<const EndpointView> endpoints) {
    bool same = addresses_.size() == endpoints.size();
    for (size_t i = 0; same && i < endpoints.size(); ++i) {
      same = addresses_[i] == endpoints[i].address;
    }
    if (same) return;
    addresses_.clear();
    ring_.clear();
    for (size_t i = 0; i < endpoints.size(); ++i) {
      addresses_.emplace_back(endpoints[i].address);
      for (int point = 0; point < kPointsPerEndpoint; ++point) {
        ring_.emplace(Hash(absl::StrCat(endpoints[i].address, "#", point)), i);
      }
    }
  }

  RoundRobin round_robin_;
  std::mutex mu_;
  std::vector<std::string> addresses_;  // guarded by mu_: what ring_ was built for
  std::map<uint64_t, size_t> ring_;     // guarded by mu_
};

}  // namespace

absl::StatusOr<std::unique_ptr<Balancer>> NewBalancer(absl::string_view name) {
  if (name == "pick_first") return std::make_unique<PickFirst>();
  if (name == "round_robin") return std::make_unique<RoundRobin>();
  if (name == "least_request") return std::make_unique<LeastRequest>();
  if (name == "ring_hash") return std::make_unique<RingHash>();
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown load balancing policy '", name,
      "' (pick_first, round_robin, least_request or ring_hash)"));
}

}  // namespace framerpc

// Balancer: which endpoint a call of a BalancedChannel goes to (rpc/balanced_channel.h). An
// interface, chosen per channel (ChannelOptions::load_balancing):
//   pick_first     the first endpoint that is not ejected, in the resolver's order;
//   round_robin    the endpoints that are not ejected, in turn;
//   least_request  two endpoints that are not ejected, at random; the one with fewer calls in
//                  flight (power of two choices);
//   ring_hash      consistent hashing of one metadata value (ChannelOptions::hash_key), so that
//                  calls with the same value go to the same endpoint while the set is unchanged,
//                  and most keep their endpoint when one is added or removed.
//
// Thread safety: Pick() may run on many threads at once.
#ifndef FRAMERPC_RPC_BALANCER_H_
#define FRAMERPC_RPC_BALANCER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace framerpc {

// What a balancer knows of an endpoint when it picks.
struct EndpointView {
  absl::string_view address;
  int64_t in_flight = 0;
  bool ejected = false;  // failed recently and not yet due for another try
};

class Balancer {
 public:
  virtual ~Balancer() = default;
  // An index into `endpoints` (never empty). When every endpoint is ejected, a balancer still
  // picks one (the channel has tried to re-admit the one due first): calls are never failed here.
  // `hash`: the call's key for ring_hash (empty when it has none).
  virtual size_t Pick(absl::Span<const EndpointView> endpoints, absl::string_view hash) = 0;
};

// "pick_first", "round_robin", "least_request" or "ring_hash"; INVALID_ARGUMENT otherwise.
absl::StatusOr<std::unique_ptr<Balancer>> NewBalancer(absl::string_view name);

}  // namespace framerpc

#endif  // FRAMERPC_RPC_BALANCER_H_

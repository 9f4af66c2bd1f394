// RpcMetrics: per-method call metrics under the names Grafana's gRPC dashboards know
// (go-grpc-prometheus), for the framed transport, UDP and the gRPC adapter alike, told apart by a
// `transport` label:
//   grpc_server_started_total{grpc_type, grpc_service, grpc_method, transport}
//   grpc_server_handled_total{..., grpc_code}            (grpc_code as Go spells it: "OK", ...)
//   grpc_server_msg_received_total, grpc_server_msg_sent_total
//   grpc_server_handling_seconds                          (histogram)
//   grpc_server_msg_received_bytes, grpc_server_msg_sent_bytes   (histograms; ours)
//   grpc_server_calls_in_flight                          (gauge; ours)
// It is the dispatcher's CallObserver, and a prometheus::Collectable for the exposition. Adds go
// to per-thread shards (base/sharded_counters.h); Collect() sums them.
//
// With Side::kClient the same families are named grpc_client_* (go-grpc-prometheus's client
// names), for channels (ChannelOptions::observer): "received" is then what the server sent.
//
// Thread safety: everything is thread-safe. RegisterMethod happens before calls, under a mutex
// that Collect() also takes; the call hooks take no lock.
#ifndef FRAMERPC_METRICS_RPC_METRICS_H_
#define FRAMERPC_METRICS_RPC_METRICS_H_

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "base/sharded_counters.h"
#include "metrics/histogram_buckets.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"
#include "rpc/call_observer.h"

namespace framerpc::metrics {

inline constexpr size_t kStatusCodes = 17;  // OK .. UNAUTHENTICATED

// Go's names of the canonical codes ("OK", "Canceled", "InvalidArgument", ...), which dashboards
// built for go-grpc-prometheus match on.
const char* GoCodeName(int code);

// One method's counts for one transport, summed over the shards: for the status pages.
struct MethodCounts {
  std::string service;
  std::string method;
  CallTransport transport;
  uint64_t started = 0;
  std::array<uint64_t, kStatusCodes> handled{};
  std::array<uint64_t, kLatencyBuckets> latency{};  // not cumulative
  double latency_sum_seconds = 0;
  uint64_t handled_total() const;
  uint64_t errors() const { return handled_total() - handled[0]; }
};

class RpcMetrics final : public CallObserver, public prometheus::Collectable {
 public:
  enum class Side { kServer, kClient };
  explicit RpcMetrics(Side side = Side::kServer);
  ~RpcMetrics() override;
  RpcMetrics(const RpcMetrics&) = delete;
  RpcMetrics& operator=(const RpcMetrics&) = delete;

  // CallObserver. Registering a name (and kind) again returns the same handle.
  MethodHandle RegisterMethod(absl::string_view full_name, MethodKind kind) override;
  MethodHandle UnknownMethod() override { return unknown_; }
  void OnStarted(MethodHandle method, CallTransport transport) override;
  void OnFinished(MethodHandle method, const FinishedCall& call) override;
  void OnStreamMessage(MethodHandle method, CallTransport transport, bool received,
                       size_t bytes) override;

  // prometheus::Collectable.
  std::vector<prometheus::MetricFamily> Collect() const override;

  // Every method and transport that has seen a call.
  std::vector<MethodCounts> Counts() const;

 private:
  struct Method;

  Method* Add(absl::string_view full_name, const char* type);

  const Side side_;
  mutable std::mutex mu_;
  std::deque<std::unique_ptr<Method>> methods_;  // guarded by mu_; addresses are stable
  // "<type> <full name>" -> its entry in methods_; guarded by mu_.
  absl::flat_hash_map<std::string, Method*> by_name_;
  Method* unknown_ = nullptr;
};

}  // namespace framerpc::metrics

#endif  // FRAMERPC_METRICS_RPC_METRICS_H_

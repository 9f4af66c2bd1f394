// CallObserver: what the RPC layer tells whoever watches its calls (metrics, the access log), per
// call and per stream message, on the hot path. The dispatcher knows this interface, not metrics
// or logging, which implement it (//metrics, //logging).
//
// Thread safety: implementations are called from any thread, concurrently; every method must be
// thread-safe, quick and non-blocking. Lifetime: an observer must outlive the dispatcher it is
// given to.
#ifndef FRAMERPC_RPC_CALL_OBSERVER_H_
#define FRAMERPC_RPC_CALL_OBSERVER_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "rpc/stream.h"  // MethodKind

namespace framerpc {

class ServerContext;

// Which transport carried a call: the `transport` label of the metrics.
enum class CallTransport { kFramed = 0, kGrpc = 1, kUdp = 2 };
inline constexpr size_t kCallTransports = 3;
// "framed", "grpc", "udp".
const char* CallTransportName(CallTransport transport);

// What is known of a finished call.
struct FinishedCall {
  const ServerContext* context;  // method, peer, trace id; valid during the callback only
  CallTransport transport;
  absl::StatusCode code;
  absl::Duration duration;    // from the request's arrival to the reply
  uint64_t request_bytes;     // unary: the request message and attachment; streams: 0
  uint64_t response_bytes;    // unary: the response frame; streams: 0
  bool unary = false;         // one request and (if OK) one response message
};

class CallObserver {
 public:
  // Per method, chosen by the observer at registration and handed back with each call.
  using MethodHandle = void*;

  virtual ~CallObserver() = default;
  // Once per method, when its service is added (before any call).
  virtual MethodHandle RegisterMethod(absl::string_view full_name, MethodKind kind) = 0;
  // For calls to a method nobody registered (answered UNIMPLEMENTED).
  virtual MethodHandle UnknownMethod() = 0;
  virtual void OnStarted(MethodHandle method, CallTransport transport) = 0;
  virtual void OnFinished(MethodHandle method, const FinishedCall& call) = 0;
  // A stream message of `bytes` received from the client (`received`) or sent to it.
  virtual void OnStreamMessage(MethodHandle method, CallTransport transport, bool received,
                               size_t bytes) = 0;
};

}  // namespace framerpc

#endif  // FRAMERPC_RPC_CALL_OBSERVER_H_

// AccessLog: one log line per call (issue 15.3), as a CallObserver for ServerOptions::observer
// (through a CompositeObserver beside the metrics). Off unless installed: a server without it
// spends nothing on it.
//
//   info access: call method=/framerpc.echo.EchoService/Say peer=127.0.0.1:40112 transport=framed
//     code=OK duration_us=85 request_bytes=12 response_bytes=30 trace_id=4bf9...4736 span_id=...
//
// Never a payload, a metadata value (a token), or a key: the line holds only what is listed.
// Sampled (one call in `sample_every`) and rate-limited; the lines held back by the rate are
// counted and reported in the next line written ("access log lines suppressed", with the count)
// and by Flush(). Lines are written at level info.
//
// Thread safety: as CallObserver. Lifetime: outlives the dispatcher it is given to.
#ifndef FRAMERPC_LOGGING_ACCESS_LOG_H_
#define FRAMERPC_LOGGING_ACCESS_LOG_H_

#include <atomic>
#include <cstdint>

#include "logging/rate_limiter.h"
#include "rpc/call_observer.h"

namespace framerpc::logging {

struct AccessLogOptions {
  // Log one call in this many (1: every call).
  uint64_t sample_every = 1;
  // Lines per second on average, in bursts of up to `burst`; <= 0: no limit.
  double max_lines_per_second = 100;
  double burst = 200;
};

class AccessLog final : public CallObserver {
 public:
  explicit AccessLog(AccessLogOptions options = {});

  MethodHandle RegisterMethod(absl::string_view full_name, MethodKind kind) override {
    return nullptr;  // the call's context names its method
  }
  MethodHandle UnknownMethod() override { return nullptr; }
  void OnStarted(MethodHandle method, CallTransport transport) override {}
  void OnFinished(MethodHandle method, const FinishedCall& call) override;
  void OnStreamMessage(MethodHandle method, CallTransport transport, bool received,
                       size_t bytes) override {}

  // Writes the count of lines held back and not yet reported, if any.
  void Flush();
  // Calls seen, and lines held back by the rate limit.
  uint64_t calls() const { return calls_.load(std::memory_order_relaxed); }
  uint64_t suppressed() const { return limiter_.suppressed_total(); }

 private:
  const uint64_t sample_every_;
  std::atomic<uint64_t> calls_{0};
  RateLimiter limiter_;
};

}  // namespace framerpc::logging

#endif  // FRAMERPC_LOGGING_ACCESS_LOG_H_

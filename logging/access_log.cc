#include "logging/access_log.h"

#include <algorithm>
#include <string>

#include "absl/time/clock.h"
#include "logging/log.h"
#include "rpc/context.h"

namespace framerpc::logging {
namespace {

constexpr absl::string_view kComponent = "access";

void ReportSuppressed(uint64_t suppressed) {
  Log(Level::kInfo, kComponent, "access log lines suppressed", {{"suppressed", suppressed}});
}

}  // namespace

AccessLog::AccessLog(AccessLogOptions options)
    : sample_every_(std::max<uint64_t>(1, options.sample_every)),
      limiter_(options.max_lines_per_second, options.burst) {}

void AccessLog::OnFinished(MethodHandle method, const FinishedCall& call) {
  const uint64_t n = calls_.fetch_add(1, std::memory_order_relaxed);
  if (n % sample_every_ != 0 || !Enabled(Level::kInfo)) return;
  uint64_t suppressed = 0;
  if (!limiter_.Admit(absl::Now(), &suppressed)) return;
  if (suppressed > 0) ReportSuppressed(suppressed);
  const ServerContext& context = *call.context;
  Log(Level::kInfo, kComponent, "call",
      {{"method", context.method()},
       {"peer", context.peer()},
       {"transport", CallTransportName(call.transport)},
       {"code", absl::StatusCodeToString(call.code)},
       {"duration_us", absl::ToInt64Microseconds(call.duration)},
       {"request_bytes", call.request_bytes},
       {"response_bytes", call.response_bytes},
       {"trace_id", context.trace_id()},
       {"span_id", context.span_id()}});
}

void AccessLog::Flush() {
  if (const uint64_t suppressed = limiter_.TakeSuppressed(); suppressed > 0) {
    ReportSuppressed(suppressed);
  }
}

}  // namespace framerpc::logging

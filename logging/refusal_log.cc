#include "logging/refusal_log.h"

#include "absl/time/clock.h"
#include "logging/log.h"

namespace framerpc::logging {
namespace {

constexpr absl::string_view kComponent = "refusal";

Level LevelOf(RefusalKind kind) {
  return kind == RefusalKind::kTimeout ? Level::kInfo : Level::kWarn;
}

void ReportSuppressed(RefusalKind kind, uint64_t suppressed) {
  Log(LevelOf(kind), kComponent, "refusals suppressed",
      {{"kind", RefusalKindName(kind)}, {"suppressed", suppressed}});
}

}  // namespace

RefusalLog::RefusalLog(RefusalLogOptions options) {
  for (PerKind& kind : kinds_) {
    kind.limiter = std::make_unique<RateLimiter>(options.lines_per_second, options.burst);
  }
}

void RefusalLog::OnRefusal(RefusalKind kind, absl::string_view peer, absl::string_view reason) {
  PerKind& per_kind = kinds_[static_cast<size_t>(kind)];
  per_kind.refused.fetch_add(1, std::memory_order_relaxed);
  if (!Enabled(LevelOf(kind))) return;
  uint64_t suppressed = 0;
  if (!per_kind.limiter->Admit(absl::Now(), &suppressed)) return;
  if (suppressed > 0) ReportSuppressed(kind, suppressed);
  Log(LevelOf(kind), kComponent, "refused",
      {{"kind", RefusalKindName(kind)}, {"peer", peer}, {"reason", reason}});
}

void RefusalLog::Flush() {
  for (size_t i = 0; i < kRefusalKinds; ++i) {
    if (const uint64_t suppressed = kinds_[i].limiter->TakeSuppressed(); suppressed > 0) {
      ReportSuppressed(static_cast<RefusalKind>(i), suppressed);
    }
  }
}

}  // namespace framerpc::logging

#include "admin/status_window.h"

#include <limits>
#include <map>
#include <tuple>
#include <utility>

namespace framerpc::admin {
namespace {

using Key = std::tuple<std::string, std::string, int>;

Key KeyOf(const metrics::MethodCounts& c) {
  return {c.service, c.method, static_cast<int>(c.transport)};
}

}  // namespace

double LatencyQuantile(const std::array<uint64_t, metrics::kLatencyBuckets>& buckets,
                       double quantile) {
  uint64_t total = 0;
  for (uint64_t n : buckets) total += n;
  if (total == 0) return 0;
  const double rank = quantile * static_cast<double>(total);
  double below = 0;
  for (size_t b = 0; b < buckets.size(); ++b) {
    const double in_bucket = static_cast<double>(buckets[b]);
    if (below + in_bucket >= rank && in_bucket > 0) {
      if (b + 1 == buckets.size()) return std::numeric_limits<double>::infinity();
      const double lower = b == 0 ? 0 : metrics::kLatencyBounds[b - 1];
      const double upper = metrics::kLatencyBounds[b];
      return lower + (upper - lower) * (rank - below) / in_bucket;
    }
    below += in_bucket;
  }
  return std::numeric_limits<double>::infinity();
}

std::vector<MethodSummary> Summarize(const std::vector<metrics::MethodCounts>& then,
                                     const std::vector<metrics::MethodCounts>& now,
                                     absl::Duration elapsed) {
  std::map<Key, const metrics::MethodCounts*> before;
  for (const metrics::MethodCounts& c : then) before[KeyOf(c)] = &c;
  const double seconds = std::max(absl::ToDoubleSeconds(elapsed), 1e-9);
  std::vector<MethodSummary> out;
  for (const metrics::MethodCounts& c : now) {
    const auto it = before.find(KeyOf(c));
    const metrics::MethodCounts* b = it == before.end() ? nullptr : it->second;
    MethodSummary s;
    s.service = c.service;
    s.method = c.method;
    s.transport = CallTransportName(c.transport);
    s.calls = c.handled_total() - (b != nullptr ? b->handled_total() : 0);
    s.errors = c.errors() - (b != nullptr ? b->errors() : 0);
    s.in_flight = c.started - c.handled_total();
    if (s.calls == 0 && s.in_flight == 0) continue;
    s.calls_per_second = static_cast<double>(s.calls) / seconds;
    std::array<uint64_t, metrics::kLatencyBuckets> window{};
    for (size_t i = 0; i < window.size(); ++i) {
      window[i] = c.latency[i] - (b != nullptr ? b->latency[i] : 0);
    }
    s.p50_seconds = LatencyQuantile(window, 0.5);
    s.p99_seconds = LatencyQuantile(window, 0.99);
    out.push_back(std::move(s));
  }
  return out;
}

StatusWindow::StatusWindow(const metrics::RpcMetrics* metrics, absl::Duration window)
    : metrics_(metrics), window_(window) {
  snapshots_.push_back(Snapshot{absl::Now(), metrics_->Counts()});
  sampler_ = std::thread([this] { Sample(); });
}

StatusWindow::~StatusWindow() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  sampler_.join();
}

void StatusWindow::Sample() {
  std::unique_lock<std::mutex> lock(mu_);
  // A periodic sampler: the wait is the period (or the stop), not a synchronisation.
  while (!stop_cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; })) {
    lock.unlock();
    Snapshot snapshot{absl::Now(), metrics_->Counts()};
    lock.lock();
    snapshots_.push_back(std::move(snapshot));
    while (snapshots_.size() > 2 && snapshots_[1].taken <= snapshots_.back().taken - window_) {
      snapshots_.pop_front();
    }
  }
}

std::vector<MethodSummary> StatusWindow::Summary() const {
  Snapshot oldest;
  {
    std::lock_guard<std::mutex> lock(mu_);
    oldest = snapshots_.front();
  }
  const absl::Time now = absl::Now();
  return Summarize(oldest.counts, metrics_->Counts(), now - oldest.taken);
}

}  // namespace framerpc::admin

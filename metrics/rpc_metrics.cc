#include "metrics/rpc_metrics.h"

#include <cmath>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"

namespace framerpc::metrics {
namespace {

// The counters of one transport, in a block of ShardedCounters.
enum Field : size_t {
  kStarted = 0,
  kHandled = 1,  // + code
  kMsgReceived = kHandled + kStatusCodes,
  kMsgSent,
  kLatency,  // + bucket
  kLatencySumNs = kLatency + kLatencyBuckets,
  kReceivedBytes,  // + bucket
  kReceivedBytesSum = kReceivedBytes + kSizeBuckets,
  kSentBytes,  // + bucket
  kSentBytesSum = kSentBytes + kSizeBuckets,
  kFieldsPerTransport,
};

size_t Index(CallTransport transport, size_t field) {
  return static_cast<size_t>(transport) * kFieldsPerTransport + field;
}

const char* TypeName(MethodKind kind) {
  switch (kind) {
    case MethodKind::kUnary:
      return "unary";
    case MethodKind::kClientStreaming:
      return "client_stream";
    case MethodKind::kServerStreaming:
      return "server_stream";
    case MethodKind::kBidiStreaming:
      return "bidi_stream";
  }
  return "unknown";
}

prometheus::MetricFamily Family(std::string name, std::string help,
                                prometheus::MetricType type) {
  prometheus::MetricFamily family;
  family.name = std::move(name);
  family.help = help;
  family.type = type;
  return family;
}

}  // namespace

const char* GoCodeName(int code) {
  static constexpr const char* kNames[kStatusCodes] = {
      "OK",           "Canceled",         "Unknown",          "InvalidArgument",
      "DeadlineExceeded", "NotFound",     "AlreadyExists",    "PermissionDenied",
      "ResourceExhausted", "FailedPrecondition", "Aborted",   "OutOfRange",
      "Unimplemented", "Internal",        "Unavailable",      "DataLoss",
      "Unauthenticated"};
  return code >= 0 && code < static_cast<int>(kStatusCodes) ? kNames[code] : "Unknown";
}

struct RpcMetrics::Method {
  Method(std::string service, std::string method, const char* type)
      : service(std::move(service)),
        method(std::move(method)),
        type(type),
        counters(kCallTransports * kFieldsPerTransport) {}

  const std::string service;
  const std::string method;
  const char* const type;
  ShardedCounters counters;
};

uint64_t MethodCounts::handled_total() const {
  uint64_t total = 0;
  for (uint64_t n : handled) total += n;
  return total;
}

RpcMetrics::RpcMetrics(Side side) : side_(side) { unknown_ = Add("/unknown/unknown", "unknown"); }

RpcMetrics::~RpcMetrics() = default;

RpcMetrics::Method* RpcMetrics::Add(absl::string_view full_name, const char* type) {
  // "/package.Service/Method"
  absl::string_view name = full_name;
  if (!name.empty() && name.front() == '/') name.remove_prefix(1);
  const size_t slash = name.find('/');
  std::string service(name.substr(0, slash));
  std::string method(slash == absl::string_view::npos ? "" : name.substr(slash + 1));
  std::string key = absl::StrCat(type, " ", full_name);
  std::lock_guard<std::mutex> lock(mu_);
  Method*& entry = by_name_[key];
  if (entry == nullptr) {
    methods_.push_back(std::make_unique<Method>(std::move(service), std::move(method), type));
    entry = methods_.back().get();
  }
  return entry;
}

CallObserver::MethodHandle RpcMetrics::RegisterMethod(absl::string_view full_name,
                                                      MethodKind kind) {
  return Add(full_name, TypeName(kind));
}

void RpcMetrics::OnStarted(MethodHandle handle, CallTransport transport) {
  static_cast<Method*>(handle)->counters.Add(Index(transport, kStarted));
}

void RpcMetrics::OnFinished(MethodHandle handle, const FinishedCall& call) {
  ShardedCounters& c = static_cast<Method*>(handle)->counters;
  const int code = static_cast<int>(call.code);
  c.Add(Index(call.transport, kHandled + (code >= 0 && code < 17 ? code : 2)));
  const double seconds = absl::ToDoubleSeconds(call.duration);
  c.Add(Index(call.transport, kLatency + BucketOf(kLatencyBounds, seconds)));
  c.Add(Index(call.transport, kLatencySumNs),
        static_cast<uint64_t>(std::max<int64_t>(0, absl::ToInt64Nanoseconds(call.duration))));
  if (call.unary) {
    // The request goes from client to server, the response back.
    const bool server = side_ == Side::kServer;
    OnStreamMessage(handle, call.transport, /*received=*/server, call.request_bytes);
    if (call.code == absl::StatusCode::kOk) {
      OnStreamMessage(handle, call.transport, /*received=*/!server, call.response_bytes);
    }
  }
}

void RpcMetrics::OnStreamMessage(MethodHandle handle, CallTransport transport, bool received,
                                 size_t bytes) {
  ShardedCounters& c = static_cast<Method*>(handle)->counters;
  c.Add(Index(transport, received ? kMsgReceived : kMsgSent));
  const size_t histogram = received ? kReceivedBytes : kSentBytes;
  c.Add(Index(transport, histogram + BucketOf(kSizeBounds, static_cast<double>(bytes))));
  c.Add(Index(transport, (received ? kReceivedBytesSum : kSentBytesSum)), bytes);
}

std::vector<MethodCounts> RpcMetrics::Counts() const {
  std::vector<MethodCounts> out;
  std::lock_guard<std::mutex> lock(mu_);
  for (const std::unique_ptr<Method>& m : methods_) {
    for (size_t t = 0; t < kCallTransports; ++t) {
      const auto transport = static_cast<CallTransport>(t);
      MethodCounts counts;
      counts.started = m->counters.Sum(Index(transport, kStarted));
      if (counts.started == 0) continue;
      counts.service = m->service;
      counts.method = m->method;
      counts.transport = transport;
      for (size_t code = 0; code < kStatusCodes; ++code) {
        counts.handled[code] = m->counters.Sum(Index(transport, kHandled + code));
      }
      for (size_t b = 0; b < kLatencyBuckets; ++b) {
        counts.latency[b] = m->counters.Sum(Index(transport, kLatency + b));
      }
      counts.latency_sum_seconds =
          static_cast<double>(m->counters.Sum(Index(transport, kLatencySumNs))) / 1e9;
      out.push_back(std::move(counts));
    }
  }
  return out;
}

std::vector<prometheus::MetricFamily> RpcMetrics::Collect() const {
  using prometheus::ClientMetric;
  using prometheus::MetricType;
  const bool server = side_ == Side::kServer;
  const std::string prefix = server ? "grpc_server_" : "grpc_client_";
  const char* const where = server ? "on the server" : "by the client";
  const char* const peers = server ? "clients" : "the server";
  prometheus::MetricFamily started = Family(absl::StrCat(prefix, "started_total"),
                                            absl::StrCat("RPCs started ", where, "."),
                                            MetricType::Counter);
  prometheus::MetricFamily handled =
      Family(absl::StrCat(prefix, "handled_total"),
             absl::StrCat("RPCs completed ", where, ", whatever their status."),
             MetricType::Counter);
  prometheus::MetricFamily received =
      Family(absl::StrCat(prefix, "msg_received_total"),
             absl::StrCat("Messages received from ", peers, "."), MetricType::Counter);
  prometheus::MetricFamily sent = Family(absl::StrCat(prefix, "msg_sent_total"),
                                         absl::StrCat("Messages sent to ", peers, "."),
                                         MetricType::Counter);
  prometheus::MetricFamily in_flight =
      Family(absl::StrCat(prefix, "calls_in_flight"), "RPCs started and not yet completed.",
             MetricType::Gauge);
  prometheus::MetricFamily latency = Family(
      absl::StrCat(prefix, "handling_seconds"),
      server ? "Time from a request's arrival to its reply on the server."
             : "Time from a call's start to its end, as the client saw it.",
      MetricType::Histogram);
  prometheus::MetricFamily received_bytes =
      Family(absl::StrCat(prefix, "msg_received_bytes"),
             absl::StrCat("Sizes of messages received from ", peers, " (with attachments)."),
             MetricType::Histogram);
  prometheus::MetricFamily sent_bytes =
      Family(absl::StrCat(prefix, "msg_sent_bytes"),
             absl::StrCat("Sizes of messages sent to ", peers, " (with attachments)."),
             MetricType::Histogram);

  const auto histogram = [](const ShardedCounters& c, size_t first, size_t buckets,
                            const double* bounds, double sum) {
    ClientMetric::Histogram h;
    uint64_t cumulative = 0;
    for (size_t b = 0; b < buckets; ++b) {
      cumulative += c.Sum(first + b);
      ClientMetric::Bucket bucket;
      bucket.cumulative_count = cumulative;
      bucket.upper_bound =
          b + 1 < buckets ? bounds[b] : std::numeric_limits<double>::infinity();
      h.bucket.push_back(bucket);
    }
    h.sample_count = cumulative;
    h.sample_sum = sum;
    return h;
  };

  std::lock_guard<std::mutex> lock(mu_);
  for (const std::unique_ptr<Method>& m : methods_) {
    const ShardedCounters& c = m->counters;
    for (size_t t = 0; t < kCallTransports; ++t) {
      const auto transport = static_cast<CallTransport>(t);
      const uint64_t n_started = c.Sum(Index(transport, kStarted));
      const uint64_t n_received = c.Sum(Index(transport, kMsgReceived));
      const uint64_t n_sent = c.Sum(Index(transport, kMsgSent));
      if (n_started == 0 && n_received == 0 && n_sent == 0) continue;
      const std::vector<ClientMetric::Label> labels = {
          {"grpc_method", m->method},
          {"grpc_service", m->service},
          {"grpc_type", m->type},
          {"transport", CallTransportName(transport)}};
      ClientMetric metric;
      metric.label = labels;
      metric.counter.value = static_cast<double>(n_started);
      started.metric.push_back(metric);
      uint64_t n_handled = 0;
      for (size_t code = 0; code < kStatusCodes; ++code) {
        const uint64_t n = c.Sum(Index(transport, kHandled + code));
        n_handled += n;
        if (n == 0) continue;
        ClientMetric with_code;
        with_code.label = labels;
        with_code.label.insert(with_code.label.begin(),
                               {"grpc_code", GoCodeName(static_cast<int>(code))});
        with_code.counter.value = static_cast<double>(n);
        handled.metric.push_back(std::move(with_code));
      }
      metric.counter.value = static_cast<double>(n_received);
      received.metric.push_back(metric);
      metric.counter.value = static_cast<double>(n_sent);
      sent.metric.push_back(metric);
      ClientMetric gauge;
      gauge.label = labels;
      gauge.gauge.value = static_cast<double>(n_started >= n_handled ? n_started - n_handled : 0);
      in_flight.metric.push_back(std::move(gauge));
      ClientMetric h;
      h.label = labels;
      h.histogram = histogram(c, Index(transport, kLatency), kLatencyBuckets, kLatencyBounds,
                              static_cast<double>(c.Sum(Index(transport, kLatencySumNs))) / 1e9);
      latency.metric.push_back(h);
      h.histogram = histogram(c, Index(transport, kReceivedBytes), kSizeBuckets, kSizeBounds,
                              static_cast<double>(c.Sum(Index(transport, kReceivedBytesSum))));
      received_bytes.metric.push_back(h);
      h.histogram = histogram(c, Index(transport, kSentBytes), kSizeBuckets, kSizeBounds,
                              static_cast<double>(c.Sum(Index(transport, kSentBytesSum))));
      sent_bytes.metric.push_back(std::move(h));
    }
  }
  return {std::move(started),  std::move(handled),        std::move(received),
          std::move(sent),     std::move(in_flight),      std::move(latency),
          std::move(received_bytes), std::move(sent_bytes)};
}

}  // namespace framerpc::metrics

// echo_bench: framerpc echo latency and throughput against a raw TCP ping-pong floor measured in
// the same run. Prints one table per payload size; every row is also given as a ratio to the
// floor. See docs/benchmarks.md for how to read it and the numbers on our machine.
//
//   bazel run //bench:echo_bench -- --duration=2s --sizes=64,4096
//
// Exits non-zero only when something fails (a call errors or echoes the wrong bytes), never
// because a target is missed: benchmarks are not tests.
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "bench/affinity.h"
#include "bench/echo_server.h"
#include "bench/alloc_counter.h"
#include "bench/raw_echo.h"
#include "bench/rpc_echo.h"
#include "bench/stats.h"
#include "metrics/rpc_metrics.h"
#include "rpc/channel.h"
#include "rpc/server.h"
#include "services/echo/echo_service.h"
#include "transport/tls/test_pki.h"
#include "transport/tls/tls_context.h"

ABSL_FLAG(absl::Duration, duration, absl::Seconds(2), "Measured time per row and size.");
ABSL_FLAG(int, rounds, 5,
          "Each row's --duration is measured in this many slices, the rows taking turns, so that "
          "load from elsewhere on the machine hits every row alike.");
ABSL_FLAG(absl::Duration, warmup, absl::Milliseconds(300),
          "Unmeasured run of each row before the first round (connections, allocator, caches).");
ABSL_FLAG(std::vector<std::string>, sizes, std::vector<std::string>({"64", "4096"}),
          "Payload sizes in bytes, comma-separated.");
ABSL_FLAG(int, connections, 2, "Connections (channels) for the in-flight rows.");
ABSL_FLAG(int, inflight, 32, "Calls in flight per connection for the in-flight rows.");
ABSL_FLAG(int, server_io_threads, 1, "Server event-loop threads.");
ABSL_FLAG(int, serial_cpu, 0,
          "While a one-at-a-time row (floor, blocking, async, say) runs, every "
          "thread of the process is pinned to this CPU; -1 leaves placement to the scheduler. "
          "Those rows are serial, and on a VM a wake-up across vCPUs costs tens of microseconds "
          "and makes them bimodal. The in-flight rows always use every allowed CPU.");
ABSL_FLAG(std::vector<std::string>, rows,
          std::vector<std::string>({"floor", "blocking", "async", "say", "pipelined", "inflight",
                                    "blocking_tls", "async_tls", "inflight_tls"}),
          "Rows to run (always printed in the order below): floor = raw ping-pong; blocking = "
          "Bytes through the blocking stub; async = Bytes, a chain of one async call at a time; "
          "say = Say through the blocking stub; "
          "pipelined = raw, connections x inflight; inflight = Bytes async, connections x "
          "inflight; blocking_metrics and inflight_metrics = blocking and inflight against a "
          "second server with Prometheus metrics on (RpcMetrics as its call observer); "
          "blocking_tls, async_tls and inflight_tls = blocking, async and inflight against a "
          "third server over TLS 1.3. The ratio columns need floor and blocking.");

namespace framerpc::bench {
namespace {

constexpr double kLatencyTarget = 1.3;     // one-at-a-time p50 vs the floor's, at most
constexpr double kThroughputTarget = 3.0;  // in-flight calls/s vs one-at-a-time, at least
constexpr double kMetricsThroughputTarget = 0.97;  // in-flight calls/s, metrics on vs off
constexpr double kMetricsLatencyTarget = 1.03;     // one-at-a-time p50, metrics on vs off
constexpr double kTlsLatencyTarget = 1.25;     // one-at-a-time p50, TLS vs plaintext (issue 14)
constexpr double kTlsThroughputTarget = 0.8;   // in-flight calls/s, TLS vs plaintext
// Issue 18.1, for payloads of 1 MiB and more (run with --connections=1 --inflight=4).
constexpr size_t kLargeBytes = 1 << 20;
constexpr double kLargeThroughputTarget = 0.6;        // 1-at-a-time calls/s vs the floor's
constexpr double kLargeCpuTarget = 1.5;               // 1-at-a-time CPU per call vs the floor's
constexpr double kLargeInFlightTarget = 0.7;          // in-flight calls/s vs the floor's
constexpr double kAllocationsTarget = 4;              // heap allocations per unary call

// The rows the targets compare; the others are context.
enum class RowRole {
  kFloor,
  kOneAtATime,
  kInFlight,
  kOneAtATimeMetrics,
  kInFlightMetrics,
  kAsync,
  kOneAtATimeTls,
  kInFlightTls,
  kAsyncTls,
  kPipelinedFloor,
  kOther
};

// What the whole process (client and server alike: both live here) spent while a row ran.
struct Usage {
  double cpu_us = 0;
  uint64_t page_faults = 0;  // minor and major
  uint64_t allocations = 0;  // operator new (bench/alloc_counter.h)

  static Usage Now() {
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    Usage u;
    u.cpu_us = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
               static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
    u.page_faults = static_cast<uint64_t>(ru.ru_minflt + ru.ru_majflt);
    u.allocations = HeapAllocations();
    return u;
  }
  void AddSince(const Usage& start, const Usage& end) {
    cpu_us += end.cpu_us - start.cpu_us;
    page_faults += end.page_faults - start.page_faults;
    allocations += end.allocations - start.allocations;
  }
};

struct Row {
  std::string name;
  RowRole role;
  RowResult result;
  Usage usage;  // over the measured rounds

  double PerCall(double total) const {
    return result.calls > 0 ? total / static_cast<double>(result.calls) : 0;
  }
};

struct BenchConfig {
  absl::Duration duration;
  absl::Duration warmup;
  int rounds;
  int connections;
  int inflight;
  int serial_cpu;      // -1: not pinned
  cpu_set_t all_cpus;  // the mask the process started with
};

struct Spec {
  std::string key;  // as in --rows
  std::string name;
  RowRole role;
  bool serial;  // one call at a time: pinned to --serial_cpu
  std::function<absl::StatusOr<Samples>(absl::Duration)> measure;
};

// `metered`: channels to the server with metrics on; `tls`: to the TLS server (same count as
// `channels`).
std::vector<Spec> AllRows(const BenchConfig& config, size_t size,
                          const std::vector<Channel*>& channels,
                          const std::vector<Channel*>& metered,
                          const std::vector<Channel*>& tls) {
  const int c = config.connections;
  const int k = config.inflight;
  const std::string in_flight = absl::StrCat(c, "x", k);
  Channel* one = channels[0];
  return {
      {"floor", "raw TCP ping-pong (floor)", RowRole::kFloor, /*serial=*/true,
       [=](absl::Duration d) { return RunRawPingPong(size, d); }},
      {"blocking", "framerpc 1 at a time, blocking stub", RowRole::kOneAtATime, /*serial=*/true,
       [=](absl::Duration d) { return RunRpcBlocking(one, size, d); }},
      {"async", "framerpc 1 at a time, async chain", RowRole::kAsync, /*serial=*/true,
       [=](absl::Duration d) { return RunRpcAsync({one}, size, 1, d); }},
      {"say", "framerpc 1 at a time, Say (text)", RowRole::kOther, /*serial=*/true,
       [=](absl::Duration d) { return RunRpcSayBlocking(one, size, d); }},
      {"pipelined", "raw TCP pipelined " + in_flight, RowRole::kPipelinedFloor, /*serial=*/false,
       [=](absl::Duration d) { return RunRawPipelined(size, c, k, d); }},
      {"inflight", "framerpc in flight " + in_flight, RowRole::kInFlight, /*serial=*/false,
       [=](absl::Duration d) { return RunRpcAsync(channels, size, k, d); }},
      {"blocking_metrics", "framerpc 1 at a time, blocking stub, metrics on",
       RowRole::kOneAtATimeMetrics, /*serial=*/true,
       [=](absl::Duration d) { return RunRpcBlocking(metered[0], size, d); }},
      {"inflight_metrics", "framerpc in flight " + in_flight + ", metrics on",
       RowRole::kInFlightMetrics, /*serial=*/false,
       [=](absl::Duration d) { return RunRpcAsync(metered, size, k, d); }},
      // TLS 1.3 (AES-GCM as OpenSSL picks it), the same echo. A blocking call over TLS goes
      // through the channel's I/O thread (the caller-driven path is plaintext only).
      {"blocking_tls", "framerpc 1 at a time, blocking stub, TLS", RowRole::kOneAtATimeTls,
       /*serial=*/true, [=](absl::Duration d) { return RunRpcBlocking(tls[0], size, d); }},
      {"async_tls", "framerpc 1 at a time, async chain, TLS", RowRole::kAsyncTls,
       /*serial=*/true, [=](absl::Duration d) { return RunRpcAsync({tls[0]}, size, 1, d); }},
      {"inflight_tls", "framerpc in flight " + in_flight + ", TLS", RowRole::kInFlightTls,
       /*serial=*/false, [=](absl::Duration d) { return RunRpcAsync(tls, size, k, d); }},
  };
}

// Warms every wanted row up once, then measures them round-robin in `rounds` slices of
// duration / rounds each, so that a burst of load from elsewhere on the machine is shared by
// all rows instead of landing on one of them.
absl::Status MeasureSize(const BenchConfig& config, size_t size,
                         const std::vector<Channel*>& channels,
                         const std::vector<Channel*>& metered,
                         const std::vector<Channel*>& tls,
                         const std::vector<std::string>& wanted, std::vector<Row>* rows) {
  auto place = [&](const Spec& spec) {
    const bool pin = spec.serial && config.serial_cpu >= 0;
    return SetProcessAffinity(pin ? SingleCpu(config.serial_cpu) : config.all_cpus);
  };
  std::vector<Spec> specs = AllRows(config, size, channels, metered, tls);
  specs.erase(std::remove_if(specs.begin(), specs.end(),
                             [&](const Spec& spec) {
                               return std::find(wanted.begin(), wanted.end(), spec.key) ==
                                      wanted.end();
                             }),
              specs.end());
  const absl::Duration slice = config.duration / config.rounds;
  std::vector<Samples> samples(specs.size());
  std::vector<Usage> usage(specs.size());
  for (int round = -1; round < config.rounds; ++round) {
    const bool warming = round < 0;
    if (warming && config.warmup <= absl::ZeroDuration()) continue;
    for (size_t i = 0; i < specs.size(); ++i) {
      absl::Status placed = place(specs[i]);
      if (!placed.ok()) return placed;
      const Usage before = Usage::Now();
      absl::StatusOr<Samples> result = specs[i].measure(warming ? config.warmup : slice);
      usage[i].AddSince(before, Usage::Now());
      if (!result.ok()) {
        return absl::Status(
            result.status().code(),
            absl::StrCat(specs[i].name, ", ", size, " B: ", result.status().message()));
      }
      if (warming) {
        usage[i] = Usage();
      } else {
        samples[i].Append(*std::move(result));
      }
    }
  }
  for (size_t i = 0; i < specs.size(); ++i) {
    rows->push_back(
        Row{specs[i].name, specs[i].role, Summarize(std::move(samples[i])), usage[i]});
  }
  return absl::OkStatus();
}

const Row* FindFullRow(const std::vector<Row>& rows, RowRole role) {
  for (const Row& row : rows) {
    if (row.role == role) return &row;
  }
  return nullptr;
}

const RowResult* FindRow(const std::vector<Row>& rows, RowRole role) {
  for (const Row& row : rows) {
    if (row.role == role) return &row.result;
  }
  return nullptr;
}

// Markdown, so that it pastes into docs/benchmarks.md as it is.
void PrintTable(size_t size, const std::vector<Row>& rows) {
  const RowResult none;
  const Row* floor_full = FindFullRow(rows, RowRole::kFloor);
  const double floor_cpu =
      floor_full != nullptr ? floor_full->PerCall(floor_full->usage.cpu_us) : 0;
  const RowResult* floor_row = FindRow(rows, RowRole::kFloor);
  const RowResult* one_row = FindRow(rows, RowRole::kOneAtATime);
  const RowResult& floor = floor_row != nullptr ? *floor_row : none;
  const RowResult& one = one_row != nullptr ? *one_row : none;
  std::printf("\n%zu B payload\n\n", size);
  std::printf(
      "| row | calls/s | p50 us | p99 us | p50 / floor | p99 / floor | calls/s / floor "
      "| calls/s / 1-at-a-time | CPU us/call | CPU / floor | page faults/call | allocs/call |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const Row& row : rows) {
    const RowResult& r = row.result;
    const double cpu = row.PerCall(row.usage.cpu_us);
    std::printf(
        "| %s | %.0f | %.1f | %.1f | %.2fx | %.2fx | %.2fx | %.2fx | %.1f | %.2fx | %.1f | %.2f "
        "|\n",
        row.name.c_str(), r.calls_per_sec, r.p50_us, r.p99_us, Ratio(r.p50_us, floor.p50_us),
        Ratio(r.p99_us, floor.p99_us), Ratio(r.calls_per_sec, floor.calls_per_sec),
        Ratio(r.calls_per_sec, one.calls_per_sec), cpu, Ratio(cpu, floor_cpu),
        row.PerCall(static_cast<double>(row.usage.page_faults)),
        row.PerCall(static_cast<double>(row.usage.allocations)));
  }
}

// Issue 18.1's targets. CPU is the whole process's (client and server), for the floor as for
// framerpc.
void PrintLargeTargets(size_t size, const std::vector<Row>& rows) {
  const Row* floor = FindFullRow(rows, RowRole::kFloor);
  const Row* one = FindFullRow(rows, RowRole::kOneAtATime);
  const Row* many = FindFullRow(rows, RowRole::kInFlight);
  const Row* pipelined = FindFullRow(rows, RowRole::kPipelinedFloor);
  auto verdict = [](bool met) { return met ? "met" : "MISSED"; };
  if (floor != nullptr && one != nullptr) {
    const double speed = Ratio(one->result.calls_per_sec, floor->result.calls_per_sec);
    std::printf("%zu B: 1-at-a-time calls/s = %.2fx floor (target >= %.1fx): %s\n", size, speed,
                kLargeThroughputTarget, verdict(speed >= kLargeThroughputTarget));
    const double cpu = Ratio(one->PerCall(one->usage.cpu_us), floor->PerCall(floor->usage.cpu_us));
    std::printf("%zu B: 1-at-a-time CPU/call = %.2fx floor's (target <= %.1fx): %s\n", size, cpu,
                kLargeCpuTarget, verdict(cpu <= kLargeCpuTarget));
  }
  if (floor != nullptr && many != nullptr) {
    const double speed = Ratio(many->result.calls_per_sec, floor->result.calls_per_sec);
    std::printf("%zu B: in-flight calls/s = %.2fx floor (target >= %.1fx): %s\n", size, speed,
                kLargeInFlightTarget, verdict(speed >= kLargeInFlightTarget));
  }
  if (pipelined != nullptr && many != nullptr) {
    std::printf("%zu B: in-flight calls/s = %.2fx raw pipelined\n", size,
                Ratio(many->result.calls_per_sec, pipelined->result.calls_per_sec));
  }
  if (one != nullptr) {
    const double allocations = one->PerCall(static_cast<double>(one->usage.allocations));
    std::printf("%zu B: heap allocations per call = %.2f (target <= %.0f): %s\n", size,
                allocations, kAllocationsTarget, verdict(allocations <= kAllocationsTarget));
  }
}

void PrintTargets(size_t size, const std::vector<Row>& rows) {
  if (size >= kLargeBytes) PrintLargeTargets(size, rows);
  const RowResult* floor = FindRow(rows, RowRole::kFloor);
  const RowResult* one = FindRow(rows, RowRole::kOneAtATime);
  const RowResult* many = FindRow(rows, RowRole::kInFlight);
  if (floor != nullptr && one != nullptr) {
    const double latency = Ratio(one->p50_us, floor->p50_us);
    std::printf("%zu B: 1-at-a-time p50 = %.2fx floor (target <= %.1fx): %s\n", size, latency,
                kLatencyTarget, latency <= kLatencyTarget ? "met" : "MISSED");
  }
  if (one != nullptr && many != nullptr) {
    const double throughput = Ratio(many->calls_per_sec, one->calls_per_sec);
    std::printf("%zu B: in-flight calls/s = %.2fx 1-at-a-time (target >= %.1fx): %s\n", size,
                throughput, kThroughputTarget, throughput >= kThroughputTarget ? "met" : "MISSED");
  }
  const RowResult* one_metrics = FindRow(rows, RowRole::kOneAtATimeMetrics);
  const RowResult* many_metrics = FindRow(rows, RowRole::kInFlightMetrics);
  if (many != nullptr && many_metrics != nullptr) {
    const double throughput = Ratio(many_metrics->calls_per_sec, many->calls_per_sec);
    std::printf("%zu B: metrics on, in-flight calls/s = %.3fx off (target >= %.2fx): %s\n", size,
                throughput, kMetricsThroughputTarget,
                throughput >= kMetricsThroughputTarget ? "met" : "MISSED");
  }
  if (one != nullptr && one_metrics != nullptr) {
    const double latency = Ratio(one_metrics->p50_us, one->p50_us);
    std::printf("%zu B: metrics on, 1-at-a-time p50 = %.3fx off (target <= %.2fx): %s\n", size,
                latency, kMetricsLatencyTarget,
                latency <= kMetricsLatencyTarget ? "met" : "MISSED");
  }
  const RowResult* one_tls = FindRow(rows, RowRole::kOneAtATimeTls);
  const RowResult* many_tls = FindRow(rows, RowRole::kInFlightTls);
  const RowResult* async = FindRow(rows, RowRole::kAsync);
  const RowResult* async_tls = FindRow(rows, RowRole::kAsyncTls);
  if (one != nullptr && one_tls != nullptr) {
    const double latency = Ratio(one_tls->p50_us, one->p50_us);
    std::printf("%zu B: TLS, 1-at-a-time p50 = %.2fx plaintext (target <= %.2fx): %s\n", size,
                latency, kTlsLatencyTarget, latency <= kTlsLatencyTarget ? "met" : "MISSED");
  }
  if (async != nullptr && async_tls != nullptr) {
    std::printf("%zu B: TLS, async chain p50 = %.2fx plaintext (the record layer alone)\n", size,
                Ratio(async_tls->p50_us, async->p50_us));
  }
  if (many != nullptr && many_tls != nullptr) {
    const double throughput = Ratio(many_tls->calls_per_sec, many->calls_per_sec);
    std::printf("%zu B: TLS, in-flight calls/s = %.2fx plaintext (target >= %.2fx): %s\n", size,
                throughput, kTlsThroughputTarget,
                throughput >= kTlsThroughputTarget ? "met" : "MISSED");
  }
}

int Main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  BenchConfig config{absl::GetFlag(FLAGS_duration),
                     absl::GetFlag(FLAGS_warmup),
                     absl::GetFlag(FLAGS_rounds),
                     absl::GetFlag(FLAGS_connections),
                     absl::GetFlag(FLAGS_inflight),
                     absl::GetFlag(FLAGS_serial_cpu),
                     CurrentAffinity()};
  if (config.serial_cpu >= CPU_SETSIZE ||
      (config.serial_cpu >= 0 && !CPU_ISSET(config.serial_cpu, &config.all_cpus))) {
    std::fprintf(stderr, "echo_bench: --serial_cpu=%d is not a CPU this process may use\n",
                 config.serial_cpu);
    return 2;
  }
  std::vector<size_t> sizes;
  for (const std::string& text : absl::GetFlag(FLAGS_sizes)) {
    size_t size = 0;
    if (!absl::SimpleAtoi(text, &size)) {
      std::fprintf(stderr, "echo_bench: bad --sizes entry '%s'\n", text.c_str());
      return 2;
    }
    sizes.push_back(size);
  }
  const std::vector<std::string> wanted = absl::GetFlag(FLAGS_rows);
  const std::vector<Spec> known = AllRows(config, 0, {nullptr}, {nullptr}, {nullptr});
  for (const std::string& key : wanted) {
    if (std::none_of(known.begin(), known.end(), [&](const Spec& s) { return s.key == key; })) {
      std::fprintf(stderr, "echo_bench: unknown --rows entry '%s'\n", key.c_str());
      return 2;
    }
  }
  if (config.connections < 1 || config.inflight < 1 || config.rounds < 1 || sizes.empty()) {
    std::fprintf(stderr,
                 "echo_bench: need --connections, --inflight, --rounds >= 1 and some --sizes\n");
    return 2;
  }

  ServerOptions options;
  options.io_threads = absl::GetFlag(FLAGS_server_io_threads);
  options.worker_threads = 1;  // unused: the echo service runs inline on the I/O loop
  echo::EchoServiceImpl echo_service;
  absl::StatusOr<std::unique_ptr<Server>> plain = StartEchoServer(options, &echo_service);
  if (!plain.ok()) {
    std::fprintf(stderr, "echo_bench: server: %s\n", plain.status().ToString().c_str());
    return 1;
  }
  Server& server = **plain;
  // The same server with metrics on: every call goes through RpcMetrics, as in framerpc_server.
  metrics::RpcMetrics rpc_metrics;
  ServerOptions metered_options = options;
  metered_options.observer = &rpc_metrics;
  absl::StatusOr<std::unique_ptr<Server>> metered_owned =
      StartEchoServer(metered_options, &echo_service);
  if (!metered_owned.ok()) {
    std::fprintf(stderr, "echo_bench: metered server: %s\n",
                 metered_owned.status().ToString().c_str());
    return 1;
  }
  Server& metered_server = **metered_owned;
  absl::Status status;
  // The same server over TLS 1.3, with a certificate made now (test_pki).
  TestCa ca(TestPkiDir("framerpc-echo-bench"), "bench");
  TestCertSpec spec;
  spec.ips = {"127.0.0.1"};
  const TestCertFiles cert = ca.Issue("server", spec);
  TlsServerOptions server_tls;
  server_tls.cert_chain_file = cert.cert;
  server_tls.private_key_file = cert.key;
  absl::StatusOr<std::shared_ptr<TlsContext>> tls_context = TlsContext::NewServer(server_tls);
  Server tls_server(options);
  status = tls_context.status();
  if (status.ok()) {
    tls_server.SetTlsContext(*tls_context);
    status = tls_server.AddService(&echo_service);
  }
  if (status.ok()) status = tls_server.AddListener("127.0.0.1:0", Server::ListenerTls::kRequired);
  if (status.ok()) status = tls_server.Start();
  if (!status.ok()) {
    std::fprintf(stderr, "echo_bench: TLS server: %s\n", status.ToString().c_str());
    return 1;
  }
  std::vector<std::unique_ptr<Channel>> owned;
  std::vector<Channel*> channels;
  std::vector<Channel*> metered;
  std::vector<Channel*> tls;
  for (Server* target : {&server, &metered_server, &tls_server}) {
    ChannelOptions channel_options;
    if (target == &tls_server) {
      channel_options.tls.emplace();
      channel_options.tls->ca_file = ca.cert_file();
    }
    for (int i = 0; i < config.connections; ++i) {
      absl::StatusOr<std::unique_ptr<Channel>> channel =
          Channel::Create(target->listen_address(0), channel_options);
      if (!channel.ok()) {
        std::fprintf(stderr, "echo_bench: channel: %s\n", channel.status().ToString().c_str());
        return 1;
      }
      (target == &server ? channels : target == &metered_server ? metered : tls)
          .push_back(channel->get());
      owned.push_back(*std::move(channel));
    }
  }

  std::printf(
      "echo_bench: %d CPUs, server io threads %d, %s per row in %d rounds after %s "
      "warm-up, in flight %d connections x %d calls, one-at-a-time rows %s\n",
      CPU_COUNT(&config.all_cpus), options.io_threads,
      absl::FormatDuration(config.duration).c_str(), config.rounds,
      absl::FormatDuration(config.warmup).c_str(), config.connections, config.inflight,
      config.serial_cpu >= 0 ? absl::StrCat("pinned to CPU ", config.serial_cpu).c_str()
                             : "not pinned");
  int exit_code = 0;
  std::vector<std::pair<size_t, std::vector<Row>>> tables;
  for (size_t size : sizes) {
    std::vector<Row> rows;
    status = MeasureSize(config, size, channels, metered, tls, wanted, &rows);
    if (!status.ok()) {
      std::fprintf(stderr, "echo_bench: %s\n", status.ToString().c_str());
      exit_code = 1;
      break;
    }
    PrintTable(size, rows);
    std::fflush(stdout);
    tables.emplace_back(size, std::move(rows));
  }
  std::printf("\n");
  for (const auto& [size, rows] : tables) PrintTargets(size, rows);

  owned.clear();
  server.Shutdown(absl::Seconds(1));
  metered_server.Shutdown(absl::Seconds(1));
  tls_server.Shutdown(absl::Seconds(1));
  return exit_code;
}

}  // namespace
}  // namespace framerpc::bench

int main(int argc, char** argv) { return framerpc::bench::Main(argc, argv); }

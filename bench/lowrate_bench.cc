// lowrate_bench: the latency of a call made at a low rate (issue 18.2), one call every --gap, when
// both ends have gone to sleep between calls, against a raw TCP ping-pong paced the same way and
// measured in the same run. Back-to-back calls (echo_bench) keep the threads warm and hide what a
// real service at a few hundred calls per second sees on most of its calls.
//
//   bazel build --config=ci //bench:lowrate_bench && bazel-bin/bench/lowrate_bench
//
// The rows take turns for --rounds slices of --duration each. Exits non-zero only when a call
// fails, never because a target is missed.
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "bench/affinity.h"
#include "bench/echo_server.h"
#include "bench/raw_echo.h"
#include "bench/rpc_echo.h"
#include "bench/stats.h"
#include "rpc/channel.h"
#include "rpc/server.h"
#include "services/echo/echo_service.h"

ABSL_FLAG(absl::Duration, gap, absl::Milliseconds(10), "Time from one call's start to the next.");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(3), "Measured time per row.");
ABSL_FLAG(int, rounds, 3, "Slices of --duration, the rows taking turns.");
ABSL_FLAG(int, payload, 64, "Payload bytes of each echo.");
ABSL_FLAG(int, cpu, -1, "Pin the whole process to this CPU (-1: let the scheduler place threads).");
ABSL_FLAG(int, only, -1, "Run only row N (0 is the floor), for perf stat.");

namespace framerpc::bench {
namespace {

constexpr double kLowRateTarget = 1.5;  // p50 of a framerpc call / the floor's, issue 18

struct Row {
  std::string name;
  std::function<absl::StatusOr<Samples>(absl::Duration)> measure;
  Samples samples;
};

absl::StatusOr<std::unique_ptr<Channel>> Open(const Server& server, size_t sync_connections) {
  ChannelOptions options;
  options.max_sync_connections = sync_connections;
  return Channel::Create(server.listen_address(0), options);
}

int Main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const absl::Duration gap = absl::GetFlag(FLAGS_gap);
  const int rounds = absl::GetFlag(FLAGS_rounds);
  const size_t payload = static_cast<size_t>(absl::GetFlag(FLAGS_payload));
  if (gap <= absl::ZeroDuration() || rounds < 1) {
    std::fprintf(stderr, "lowrate_bench: need --gap > 0 and --rounds >= 1\n");
    return 2;
  }
  if (const int cpu = absl::GetFlag(FLAGS_cpu); cpu >= 0) {
    if (absl::Status pinned = SetProcessAffinity(SingleCpu(cpu)); !pinned.ok()) {
      std::fprintf(stderr, "lowrate_bench: %s\n", pinned.ToString().c_str());
      return 2;
    }
  }
  ServerOptions options;
  options.io_threads = 1;
  echo::EchoServiceImpl echo_service;
  absl::StatusOr<std::unique_ptr<Server>> server = StartEchoServer(options, &echo_service);
  if (!server.ok()) {
    std::fprintf(stderr, "lowrate_bench: server: %s\n", server.status().ToString().c_str());
    return 1;
  }
  absl::StatusOr<std::unique_ptr<Channel>> caller_driven = Open(**server, 4);
  absl::StatusOr<std::unique_ptr<Channel>> multiplexed = Open(**server, 0);
  if (!caller_driven.ok() || !multiplexed.ok()) {
    std::fprintf(
        stderr, "lowrate_bench: channel: %s\n",
        (caller_driven.ok() ? multiplexed.status() : caller_driven.status()).ToString().c_str());
    return 1;
  }
  std::vector<Row> rows;
  rows.push_back(
      {"raw TCP ping-pong, paced (floor)",
       [&](absl::Duration d) { return RunRawPingPong(payload, d, RawWait::kBlock, gap); },
       {}});
  rows.push_back(
      {"framerpc blocking stub (default: caller-driven)",
       [&](absl::Duration d) { return RunRpcBlocking(caller_driven->get(), payload, d, gap); },
       {}});
  rows.push_back(
      {"framerpc blocking stub, multiplexed connection (max_sync_connections=0)",
       [&](absl::Duration d) { return RunRpcBlocking(multiplexed->get(), payload, d, gap); },
       {}});
  if (const int only = absl::GetFlag(FLAGS_only); only >= 0) {
    if (only >= static_cast<int>(rows.size())) {
      std::fprintf(stderr, "lowrate_bench: --only=%d: there are %zu rows\n", only, rows.size());
      return 2;
    }
    rows = {rows[only], rows[only]};  // the first copy stands in as the floor of the table
  }
  const absl::Duration slice = absl::GetFlag(FLAGS_duration) / rounds;
  for (int round = -1; round < rounds; ++round) {  // round -1 warms up, unmeasured
    for (Row& row : rows) {
      absl::StatusOr<Samples> s = row.measure(round < 0 ? 20 * gap : slice);
      if (!s.ok()) {
        std::fprintf(stderr, "lowrate_bench: %s: %s\n", row.name.c_str(),
                     s.status().ToString().c_str());
        return 1;
      }
      if (round >= 0) row.samples.Append(*std::move(s));
    }
  }
  std::printf("\nlowrate_bench: one call every %s, %zu B payload, %s, %d rounds of %s per row\n\n",
              absl::FormatDuration(gap).c_str(), payload,
              absl::GetFlag(FLAGS_cpu) >= 0
                  ? absl::StrCat("pinned to CPU ", absl::GetFlag(FLAGS_cpu)).c_str()
                  : "not pinned",
              rounds, absl::FormatDuration(slice).c_str());
  std::printf("| row | calls | p50 us | p99 us | p50 / floor's |\n|---|---:|---:|---:|---:|\n");
  std::vector<RowResult> results;
  for (Row& row : rows) results.push_back(Summarize(std::move(row.samples)));
  for (size_t i = 0; i < rows.size(); ++i) {
    std::printf("| %s | %lld | %.1f | %.1f | %.2fx |\n", rows[i].name.c_str(),
                static_cast<long long>(results[i].calls), results[i].p50_us, results[i].p99_us,
                Ratio(results[i].p50_us, results[0].p50_us));
  }
  const double ratio = Ratio(results[1].p50_us, results[0].p50_us);
  std::printf(
      "\nblocking stub p50 = %.2fx the floor's at one call every %s (target <= %.1fx): %s\n", ratio,
      absl::FormatDuration(gap).c_str(), kLowRateTarget,
      ratio <= kLowRateTarget ? "met" : "MISSED");
  caller_driven->reset();
  multiplexed->reset();
  (*server)->Shutdown(absl::Seconds(1));
  return 0;
}

}  // namespace
}  // namespace framerpc::bench

int main(int argc, char** argv) { return framerpc::bench::Main(argc, argv); }

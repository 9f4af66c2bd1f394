// lb_bench: what client-side balancing costs and how long a kill -9 interrupts calls (issue 16's
// benchmark), against real framerpc_server processes on loopback.
//
//   bazel build -c opt //server:framerpc_server //bench:lb_bench
//   bazel-bin/bench/lb_bench --server=bazel-bin/server/framerpc_server
//
// Throughput: EchoService.Bytes with --inflight asynchronous calls outstanding: on one channel to
// one server, on three plain channels (one per server, without a balancer), and through a
// round_robin channel over the three, with the raw TCP pipelined floor at the same depth; the rows
// take turns for --rounds slices of --duration. Failover: --threads
// threads of blocking Say calls (retry policy for UNAVAILABLE) through round_robin over three
// fresh servers; one is killed with SIGKILL after --failover_before; it prints the longest gap
// between two completed calls before and after the kill, and the calls that failed.
//
// Exits non-zero only when something fails to run, never because a target is missed.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "bench/proc_stats.h"
#include "bench/raw_echo.h"
#include "bench/rpc_echo.h"
#include "bench/server_process.h"
#include "bench/stats.h"
#include "proto/echo.frpc.h"
#include "rpc/channel.h"

ABSL_FLAG(std::string, server, "bazel-bin/server/framerpc_server", "The framerpc_server to run.");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(3), "Measured time per throughput row.");
ABSL_FLAG(int, rounds, 5, "Slices of --duration, the rows taking turns.");
ABSL_FLAG(int, inflight, 64, "Calls in flight for the throughput rows.");
ABSL_FLAG(int, payload, 64, "Payload bytes of each echo.");
ABSL_FLAG(int, threads, 4, "Calling threads for the failover measurement.");
ABSL_FLAG(absl::Duration, failover_before, absl::Seconds(1), "Calls before the kill.");
ABSL_FLAG(absl::Duration, failover_after, absl::Seconds(2), "Calls after the kill.");

namespace framerpc::bench {
namespace {

constexpr double kBalancedTarget = 0.9;  // round_robin over three vs one server, calls/s

constexpr char kRetrySay[] = R"({"methodConfig": [{
    "name": [{"service": "framerpc.echo.EchoService", "method": "Say"}],
    "retryPolicy": {"maxAttempts": 5, "initialBackoff": "0.001s", "maxBackoff": "0.05s",
                    "backoffMultiplier": 2, "retryableStatusCodes": ["UNAVAILABLE"]}}]})";

absl::StatusOr<std::vector<ServerProcess>> StartServers(int n) {
  std::vector<ServerProcess> servers;
  for (int i = 0; i < n; ++i) {
    absl::StatusOr<ServerProcess> server = ServerProcess::Start(
        absl::GetFlag(FLAGS_server), {"--listen=127.0.0.1:0", "--log_level=error"});
    if (!server.ok()) return server.status();
    servers.push_back(*std::move(server));
  }
  return servers;
}

absl::StatusOr<std::unique_ptr<Channel>> Balanced(const std::vector<ServerProcess>& servers,
                                                  const std::string& service_config) {
  std::string list = "ipv4:";
  for (size_t i = 0; i < servers.size(); ++i) {
    absl::StrAppend(&list, i == 0 ? "" : ",", servers[i].address());
  }
  ChannelOptions options;
  options.load_balancing = "round_robin";
  options.service_config = service_config;
  return Channel::Create(list, options);
}

struct Row {
  std::string name;
  std::function<absl::StatusOr<Samples>(absl::Duration)> measure;
  Samples samples;
  absl::Duration client_cpu;  // of this process, over the measured slices
  absl::Duration server_cpu;  // of every server, over the measured slices
};

// CPU used so far by the servers.
absl::Duration ServersCpu(const std::vector<ServerProcess>& servers) {
  absl::Duration total;
  for (const ServerProcess& server : servers) total += ProcessCpu(server.pid());
  return total;
}

absl::Status Throughput(const std::vector<ServerProcess>& servers) {
  const size_t payload = absl::GetFlag(FLAGS_payload);
  const int inflight = absl::GetFlag(FLAGS_inflight);
  absl::StatusOr<std::unique_ptr<Channel>> one = Channel::Create(servers[0].address());
  if (!one.ok()) return one.status();
  absl::StatusOr<std::unique_ptr<Channel>> three = Balanced(servers, "");
  if (!three.ok()) return three.status();
  std::vector<Row> rows;
  rows.push_back({absl::StrCat("raw TCP pipelined, 1 connection x ", inflight, " (floor)"),
                  [&](absl::Duration d) { return RunRawPipelined(payload, 1, inflight, d); }, {}, {}, {}});
  rows.push_back({absl::StrCat("one server, ", inflight, " in flight"), [&](absl::Duration d) {
                    return RunRpcAsync({one->get()}, payload, inflight, d);
                  }, {}, {}, {}});
  // The same three servers through three plain channels, without a balancer: what three
  // connections and three server processes cost on this machine, apart from the balancer.
  std::vector<std::unique_ptr<Channel>> plain;
  for (const ServerProcess& server : servers) {
    absl::StatusOr<std::unique_ptr<Channel>> channel = Channel::Create(server.address());
    if (!channel.ok()) return channel.status();
    plain.push_back(*std::move(channel));
  }
  rows.push_back({absl::StrCat("3 plain channels, one per server, ", inflight / 3, " in flight each"),
                  [&](absl::Duration d) {
                    return RunRpcAsync({plain[0].get(), plain[1].get(), plain[2].get()}, payload,
                                       inflight / 3, d);
                  }, {}, {}, {}});
  rows.push_back({absl::StrCat("round_robin over 3 servers, ", inflight, " in flight"),
                  [&](absl::Duration d) {
                    return RunRpcAsync({three->get()}, payload, inflight, d);
                  }, {}, {}, {}});
  const int rounds = absl::GetFlag(FLAGS_rounds);
  const absl::Duration slice = absl::GetFlag(FLAGS_duration) / rounds;
  for (int round = -1; round < rounds; ++round) {  // round -1 warms up, unmeasured
    for (Row& row : rows) {
      const absl::Duration client_before = ProcessCpu(::getpid());
      const absl::Duration servers_before = ServersCpu(servers);
      absl::StatusOr<Samples> s = row.measure(round < 0 ? absl::Milliseconds(300) : slice);
      if (round >= 0) {
        row.client_cpu += ProcessCpu(::getpid()) - client_before;
        row.server_cpu += ServersCpu(servers) - servers_before;
      }
      if (!s.ok()) {
        return absl::Status(s.status().code(), absl::StrCat(row.name, ": ", s.status().message()));
      }
      if (round >= 0) row.samples.Append(*std::move(s));
    }
  }
  std::vector<RowResult> results;
  for (Row& row : rows) results.push_back(Summarize(std::move(row.samples)));
  // CPU per call counts the client and every server (the floor's row: its own threads), so it
  // says what a row costs even when other load on the machine takes the CPU from calls/s.
  std::printf(
      "\n%zu B payload\n\n| row | calls/s | p50 us | p99 us | calls/s / one server | CPU us per "
      "call: client | servers |\n",
      payload);
  std::printf("|---|---:|---:|---:|---:|---:|---:|\n");
  for (size_t i = 0; i < rows.size(); ++i) {
    const double calls = static_cast<double>(std::max<int64_t>(results[i].calls, 1));
    std::printf("| %s | %.0f | %.1f | %.1f | %.2fx | %.2f | %.2f |\n", rows[i].name.c_str(),
                results[i].calls_per_sec, results[i].p50_us, results[i].p99_us,
                Ratio(results[i].calls_per_sec, results[1].calls_per_sec),
                absl::ToDoubleMicroseconds(rows[i].client_cpu) / calls,
                absl::ToDoubleMicroseconds(rows[i].server_cpu) / calls);
  }
  const double ratio = Ratio(results[3].calls_per_sec, results[1].calls_per_sec);
  std::printf("\nround_robin over 3 = %.2fx one server, calls/s (target >= %.1fx): %s\n", ratio,
              kBalancedTarget, ratio >= kBalancedTarget ? "met" : "MISSED");
  std::printf("round_robin over 3 = %.2fx three plain channels (the balancer alone)\n",
              Ratio(results[3].calls_per_sec, results[2].calls_per_sec));
  return absl::OkStatus();
}

// The longest gap between consecutive times in `times` (sorted) within [from, to).
absl::Duration LongestGap(const std::vector<absl::Time>& times, absl::Time from, absl::Time to) {
  absl::Duration longest = absl::ZeroDuration();
  absl::Time last = from;
  for (absl::Time t : times) {
    if (t < from) continue;
    if (t >= to) break;
    longest = std::max(longest, t - last);
    last = t;
  }
  return std::max(longest, to - last);
}

absl::Status Failover() {
  absl::StatusOr<std::vector<ServerProcess>> servers = StartServers(3);
  if (!servers.ok()) return servers.status();
  absl::StatusOr<std::unique_ptr<Channel>> channel = Balanced(*servers, kRetrySay);
  if (!channel.ok()) return channel.status();
  echo::EchoService::Stub stub(channel->get());
  const int threads = absl::GetFlag(FLAGS_threads);
  std::atomic<bool> stop{false};
  std::atomic<int64_t> failed{0};
  std::vector<std::vector<absl::Time>> done(threads);
  std::vector<std::thread> callers;
  for (int t = 0; t < threads; ++t) {
    callers.emplace_back([&, t] {
      while (!stop.load()) {
        ClientContext context;
        context.set_timeout(absl::Seconds(10));
        echo::SayRequest request;
        request.set_text("failover");
        echo::SayReply reply;
        if (stub.Say(&context, request, &reply).ok()) {
          done[t].push_back(absl::Now());
        } else {
          failed.fetch_add(1);
        }
      }
    });
  }
  const absl::Time start = absl::Now();
  absl::SleepFor(absl::GetFlag(FLAGS_failover_before));  // the load runs; a bench, not a test
  const absl::Time killed = absl::Now();
  ::kill((*servers)[1].pid(), SIGKILL);
  absl::SleepFor(absl::GetFlag(FLAGS_failover_after));
  const absl::Time end = absl::Now();
  stop.store(true);
  for (std::thread& c : callers) c.join();
  std::vector<absl::Time> all;
  for (auto& d : done) all.insert(all.end(), d.begin(), d.end());
  std::sort(all.begin(), all.end());
  std::printf("\nfailover: %d threads of blocking Say through round_robin over 3 servers, one "
              "killed with SIGKILL\n\n",
              threads);
  std::printf("| | calls | longest gap between completed calls |\n|---|---:|---:|\n");
  const auto count = [&](absl::Time from, absl::Time to) {
    return std::count_if(all.begin(), all.end(), [&](absl::Time t) { return t >= from && t < to; });
  };
  std::printf("| before the kill | %ld | %s |\n", static_cast<long>(count(start, killed)),
              absl::FormatDuration(LongestGap(all, start, killed)).c_str());
  std::printf("| after the kill | %ld | %s |\n", static_cast<long>(count(killed, end)),
              absl::FormatDuration(LongestGap(all, killed, end)).c_str());
  std::printf("\nfailed calls: %ld\n", static_cast<long>(failed.load()));
  return absl::OkStatus();
}

absl::Status Main() {
  absl::StatusOr<std::vector<ServerProcess>> servers = StartServers(3);
  if (!servers.ok()) return servers.status();
  absl::Status status = Throughput(*servers);
  if (!status.ok()) return status;
  return Failover();
}

}  // namespace
}  // namespace framerpc::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const absl::Status status = framerpc::bench::Main();
  if (!status.ok()) {
    std::fprintf(stderr, "lb_bench: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}

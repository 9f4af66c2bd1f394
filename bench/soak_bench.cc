// soak_bench: a real framerpc_server under a mixed load for --duration, watched from outside: its
// resident memory, its open descriptors and its TCP connections (from /proc), with the load's
// calls per second and errors by status code, a row every --interval. Then the load stops and the
// server is watched idle for --cooldown, to see whether memory and descriptors come back to where
// they were before the load.
//
//   bazel build -c opt //server:framerpc_server //bench:soak_bench
//   bazel-bin/bench/soak_bench --server=bazel-bin/server/framerpc_server --duration=60s
//
// The server serves a writable file service on a temporary root (--trust_local_peers: the bench
// is a local peer) on 127.0.0.1 and an abstract Unix socket; the load is bench/soak_load.h's: echo
// from several connections, downloads and uploads of a few MiB, some cancelled halfway, and
// connections that go silent.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "bench/proc_stats.h"
#include "bench/server_process.h"
#include "bench/soak_load.h"

ABSL_FLAG(absl::Duration, duration, absl::Seconds(60), "How long the load runs.");
ABSL_FLAG(absl::Duration, interval, absl::Seconds(5), "A row every this long.");
ABSL_FLAG(absl::Duration, cooldown, absl::Seconds(15),
          "How long the server is watched, idle, after the load.");
ABSL_FLAG(std::string, server, "bazel-bin/server/framerpc_server", "framerpc_server to run.");
ABSL_FLAG(std::vector<std::string>, server_args, {}, "Extra flags for the server.");
ABSL_FLAG(int, echo_connections, 4, "Channels making echo calls back to back.");
ABSL_FLAG(int, silent_clients, 40, "Silent connections held open at once, at most.");
ABSL_FLAG(int, rss_slack_mib, 8,
          "RSS within this many MiB of the baseline after the cooldown counts as returned.");

namespace framerpc::bench {
namespace {

constexpr double kMiB = 1 << 20;
constexpr size_t kDownloadFileBytes = size_t{4} << 20;
constexpr int kDownloadFiles = 3;

struct Sample {
  size_t rss = 0;
  int fds = 0;
  int connections = 0;
};

Sample Measure(pid_t pid) {
  return Sample{ProcStatusBytes(pid, "VmRSS:"), OpenFds(pid), SocketsOf(pid).connections};
}

struct Range {
  Sample min{~size_t{0}, 1 << 30, 1 << 30};
  Sample max;
  void Add(const Sample& s) {
    min = Sample{std::min(min.rss, s.rss), std::min(min.fds, s.fds),
                 std::min(min.connections, s.connections)};
    max = Sample{std::max(max.rss, s.rss), std::max(max.fds, s.fds),
                 std::max(max.connections, s.connections)};
  }
};

std::string Errors(const SoakCounts& counts) {
  std::vector<std::string> parts;
  for (size_t code = 0; code < counts.errors.size(); ++code) {
    if (counts.errors[code] == 0) continue;
    parts.push_back(absl::StrCat(absl::StatusCodeToString(static_cast<absl::StatusCode>(code)), ":",
                                 counts.errors[code]));
  }
  return parts.empty() ? "-" : absl::StrJoin(parts, " ");
}

void Header() {
  std::printf("%-10s %8s %6s %6s %9s %10s %10s  %s\n", "elapsed", "RSS MiB", "fds", "conns",
              "calls/s", "file MiB/s", "cancelled", "errors (since start)");
}

void Row(const std::string& label, const Sample& s, const SoakCounts& now, const SoakCounts& last,
         absl::Duration over) {
  const double seconds = absl::ToDoubleSeconds(over);
  std::printf("%-10s %8.1f %6d %6d %9.0f %10.1f %10llu  %s\n", label.c_str(), s.rss / kMiB, s.fds,
              s.connections, (now.ok - last.ok) / seconds,
              (now.file_bytes - last.file_bytes) / kMiB / seconds,
              static_cast<unsigned long long>(now.cancelled_on_purpose), Errors(now).c_str());
  std::fflush(stdout);
}

// The server's root with the files to download, and the bench's own directory.
absl::Status MakeFiles(const std::string& root, const std::string& local) {
  std::filesystem::create_directories(root + "/soak");
  std::filesystem::create_directories(local);
  for (int i = 0; i < kDownloadFiles; ++i) {
    const std::string path = absl::StrCat(root, "/soak/download-", i, ".bin");
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    for (size_t j = 0; j < kDownloadFileBytes; ++j) out.put(static_cast<char>(j * 7 + i));
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  }
  return absl::OkStatus();
}

void Summary(const Sample& base, const Range& load, const Sample& after, const SoakCounts& total) {
  std::printf("\nbaseline, idle before the load: RSS %.1f MiB, %d fds, %d connections\n",
              base.rss / kMiB, base.fds, base.connections);
  std::printf("under load: RSS %.1f to %.1f MiB, fds %d to %d, connections %d to %d\n",
              load.min.rss / kMiB, load.max.rss / kMiB, load.min.fds, load.max.fds,
              load.min.connections, load.max.connections);
  std::printf("after the load, idle %s: RSS %.1f MiB (%+.1f), %d fds (%+d), %d connections\n",
              absl::FormatDuration(absl::GetFlag(FLAGS_cooldown)).c_str(), after.rss / kMiB,
              (static_cast<double>(after.rss) - static_cast<double>(base.rss)) / kMiB, after.fds,
              after.fds - base.fds, after.connections);
  const double slack = absl::GetFlag(FLAGS_rss_slack_mib) * kMiB;
  std::printf("returned to baseline: fds %s, connections %s, RSS %s (within %d MiB)\n",
              after.fds == base.fds ? "yes" : "NO",
              after.connections == base.connections ? "yes" : "NO",
              after.rss <= base.rss + slack ? "yes" : "NO", absl::GetFlag(FLAGS_rss_slack_mib));
  std::printf("calls: %llu ok, %llu cancelled on purpose; errors: %s\n",
              static_cast<unsigned long long>(total.ok),
              static_cast<unsigned long long>(total.cancelled_on_purpose), Errors(total).c_str());
  for (size_t code = 0; code < total.errors.size(); ++code) {
    if (total.errors[code] == 0) continue;
    std::printf("  first %s: %s\n",
                absl::StatusCodeToString(static_cast<absl::StatusCode>(code)).c_str(),
                total.first_message[code].c_str());
  }
}

// Prints a row every --interval for `length`, from `start`; returns the range seen.
Range Watch(pid_t pid, const SoakLoad& load, absl::Time start, absl::Duration length,
            const std::string& prefix, SoakCounts* last) {
  Range range;
  const absl::Duration interval = absl::GetFlag(FLAGS_interval);
  for (absl::Duration at = interval; at <= length; at += interval) {
    absl::SleepFor(start + at - absl::Now());
    const Sample sample = Measure(pid);
    range.Add(sample);
    const SoakCounts now = load.Counts();
    Row(absl::StrCat(prefix, absl::FormatDuration(at)), sample, now, *last, interval);
    *last = now;
  }
  return range;
}

int Main() {
  char dir[] = "/tmp/frpc-soak-XXXXXX";
  if (::mkdtemp(dir) == nullptr) return 1;
  const std::string root = absl::StrCat(dir, "/files");
  const std::string local = absl::StrCat(dir, "/local");
  if (absl::Status made = MakeFiles(root, local); !made.ok()) {
    std::fprintf(stderr, "%s\n", made.ToString().c_str());
    return 1;
  }
  const std::string unix_address = absl::StrCat("unix:@framerpc-soak-", ::getpid());
  std::vector<std::string> args = {"--listen=127.0.0.1:0," + unix_address, "--file_root=" + root,
                                   "--file_writable", "--trust_local_peers"};
  for (const std::string& arg : absl::GetFlag(FLAGS_server_args)) args.push_back(arg);
  absl::StatusOr<ServerProcess> server = ServerProcess::Start(absl::GetFlag(FLAGS_server), args);
  if (!server.ok()) {
    std::fprintf(stderr, "%s\n", server.status().ToString().c_str());
    return 1;
  }
  absl::SleepFor(absl::Seconds(1));  // a bench: let it settle before the baseline
  const Sample base = Measure(server->pid());
  std::printf("server %s, pid %d, on %s; load for %s, then idle for %s\n",
              absl::GetFlag(FLAGS_server).c_str(), server->pid(), server->address().c_str(),
              absl::FormatDuration(absl::GetFlag(FLAGS_duration)).c_str(),
              absl::FormatDuration(absl::GetFlag(FLAGS_cooldown)).c_str());
  Header();
  Row("baseline", base, SoakCounts(), SoakCounts(), absl::Seconds(1));

  SoakLoadOptions options;
  options.address = server->address();
  options.cancel_address = unix_address;
  options.download_files = kDownloadFiles;
  options.local_dir = local;
  options.echo_connections = absl::GetFlag(FLAGS_echo_connections);
  options.silent_clients = absl::GetFlag(FLAGS_silent_clients);
  SoakLoad load(options);
  if (absl::Status started = load.Start(); !started.ok()) {
    std::fprintf(stderr, "%s\n", started.ToString().c_str());
    return 1;
  }
  SoakCounts last;
  const Range under_load =
      Watch(server->pid(), load, absl::Now(), absl::GetFlag(FLAGS_duration), "", &last);
  load.Stop();
  const SoakCounts total = load.Counts();
  std::printf("-- load stopped; the server idle --\n");
  Watch(server->pid(), load, absl::Now(), absl::GetFlag(FLAGS_cooldown), "idle +", &last);
  Summary(base, under_load, Measure(server->pid()), total);
  server->Stop();
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace framerpc::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return framerpc::bench::Main();
}

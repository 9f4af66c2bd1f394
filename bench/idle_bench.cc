// idle_bench (issue 18.6): what an idle connection costs a real framerpc_server in resident
// memory, with --connections (100,000) of them held open at once, and proof that each can still
// make a call.
//
//   bazel build --config=ci //server:framerpc_server //bench:idle_bench
//   bazel-bin/bench/idle_bench --server=bazel-bin/server/framerpc_server
//
// Here (2-vCPU VM, session 8) the hard RLIMIT_NOFILE is 20000 and the container lacks
// CAP_SYS_RESOURCE, so it runs with --connections=19000 --per_source=10000 (docs/benchmarks.md).
//
// The server runs as its own process (bench/server_process.h), so only its memory is counted.
// The connections are plain TCP sockets from this process, but full protocol connections: each
// makes one EchoService.Say call (a REQUEST frame, and its RESPONSE read and checked) before it
// goes idle, so the server has taken it past the first-byte stage and served a call on it. They
// are opened in batches of --batch (connect all, send all, read all), from source addresses
// 127.0.0.2, .3, ... (--per_source each: the ephemeral ports of one source address run out near
// 28,000). The descriptor limit is raised for this process and, inherited, for the server
// (RLIMIT_NOFILE, up to /proc/sys/fs/nr_open), and the server is given limits that keep the
// connections open while they are measured: --max_connections above the count, and
// --idle_timeout and --keepalive_time of a day (a raw socket does not answer the server's PINGs).
//
// Printed: the server's VmRSS and RssAnon (/proc/PID/status) at the start and after each quarter
// of the connections, the growth per connection (above the start, and since the previous row),
// then again after --idle with every connection idle. Then every connection makes a second call
// (--sample = 0) or a sample of that many plus the first and the last, and the replies are
// counted.
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bench/proc_stats.h"
#include "bench/server_process.h"
#include "proto/echo.pb.h"
#include "transport/frame_codec.h"
#include "transport/socket_address.h"

ABSL_FLAG(std::string, server, "bazel-bin/server/framerpc_server", "framerpc_server to measure.");
ABSL_FLAG(std::vector<std::string>, server_args, {}, "Extra flags for the server.");
ABSL_FLAG(int, connections, 100000, "Idle connections to hold.");
ABSL_FLAG(int, per_source, 20000, "Connections per loopback source address (127.0.0.2, .3, ...).");
ABSL_FLAG(int, batch, 1000, "Connections opened (connect, call, read) per batch.");
ABSL_FLAG(absl::Duration, idle, absl::Seconds(5), "How long the connections stay idle.");
ABSL_FLAG(int, sample, 0,
          "Connections that make the second call: 0 = all; otherwise a random sample of this "
          "many plus the first and the last.");

namespace framerpc {
namespace {

constexpr double kKiB = 1024.0;

std::string SayFrame(uint64_t call_id) {
  Envelope envelope;
  envelope.set_kind(REQUEST);
  envelope.set_call_id(call_id);
  envelope.set_method("/framerpc.echo.EchoService/Say");
  echo::SayRequest request;
  request.set_text("idle?");
  std::string frame;
  if (!EncodeFrame(envelope, &request, {}, FrameLimits{}, &frame).ok()) std::exit(1);
  return frame;
}

// Raises RLIMIT_NOFILE to `want` descriptors (capped by fs.nr_open, and by the hard limit when
// that cannot be raised); returns the new soft limit.
rlim_t RaiseFdLimit(rlim_t want) {
  rlim_t nr_open = want;
  std::ifstream("/proc/sys/fs/nr_open") >> nr_open;
  rlimit limit{std::min(want, nr_open), std::min(want, nr_open)};
  if (::setrlimit(RLIMIT_NOFILE, &limit) == 0) return limit.rlim_cur;
  // Without CAP_SYS_RESOURCE only the soft limit can move, up to the hard one.
  ::getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = std::min(want, limit.rlim_max);
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) ::getrlimit(RLIMIT_NOFILE, &limit);
  return limit.rlim_cur;
}

// A blocking TCP socket bound to `source` and connected to `server`; -1 on failure.
int ConnectFrom(in_addr_t source, const SocketAddress& server) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in local{};
  local.sin_family = AF_INET;
  local.sin_addr.s_addr = htonl(source);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0 ||
      ::connect(fd, server.sockaddr_ptr(), server.length()) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool SendAll(int fd, const std::string& bytes) {
  return ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
}

// Reads one frame and checks that it is an OK RESPONSE to `call_id`.
bool ReadOkReply(int fd, uint64_t call_id) {
  char header[kFrameHeaderSize];
  if (::recv(fd, header, sizeof header, MSG_WAITALL) != static_cast<ssize_t>(sizeof header)) {
    return false;
  }
  const uint32_t body = (uint32_t{uint8_t(header[8])} << 24) |
                        (uint32_t{uint8_t(header[9])} << 16) |
                        (uint32_t{uint8_t(header[10])} << 8) | uint8_t(header[11]);
  if (body > (1u << 20)) return false;
  std::string frame(header, sizeof header);
  frame.resize(sizeof header + body);
  if (body > 0 &&
      ::recv(fd, &frame[sizeof header], body, MSG_WAITALL) != static_cast<ssize_t>(body)) {
    return false;
  }
  Frame decoded;
  const DecodeResult result = DecodeFrame(frame, FrameLimits{}, &decoded);
  return result.outcome == DecodeOutcome::kFrame && decoded.envelope.kind() == RESPONSE &&
         decoded.envelope.call_id() == call_id && decoded.envelope.status_code() == 0;
}

// Makes call `call_id` on each of `fds` at once: sends every request, then reads every reply.
// Returns how many were answered OK.
int CallEach(const std::vector<int>& fds, uint64_t call_id) {
  const std::string request = SayFrame(call_id);
  std::vector<bool> sent(fds.size());
  for (size_t i = 0; i < fds.size(); ++i) sent[i] = SendAll(fds[i], request);
  int ok = 0;
  for (size_t i = 0; i < fds.size(); ++i) ok += sent[i] && ReadOkReply(fds[i], call_id);
  return ok;
}

struct Rss {
  size_t vm_rss = 0;
  size_t anon = 0;
};
Rss ReadRss(pid_t pid) {
  return {bench::ProcStatusBytes(pid, "VmRSS:"), bench::ProcStatusBytes(pid, "RssAnon:")};
}

void PrintRow(const std::string& what, size_t connections, const Rss& now, const Rss& start,
              const Rss& previous, size_t previous_connections) {
  const auto per = [](size_t bytes, size_t from, size_t count) {
    return count == 0 || bytes < from ? 0.0 : static_cast<double>(bytes - from) / kKiB / count;
  };
  std::printf("%-34s %8zu %10.1f %10.1f %12.2f %12.2f\n", what.c_str(), connections,
              now.vm_rss / kKiB / kKiB, now.anon / kKiB / kKiB,
              per(now.vm_rss, start.vm_rss, connections),
              per(now.vm_rss, previous.vm_rss, connections - previous_connections));
}

// Opens `count` connections that have each made one call; exits on a failure.
std::vector<int> OpenConnections(pid_t pid, const SocketAddress& server, int count,
                                 const Rss& start) {
  const int per_source = absl::GetFlag(FLAGS_per_source);
  const int batch = absl::GetFlag(FLAGS_batch);
  std::vector<int> fds;
  fds.reserve(count);
  Rss previous = start;
  size_t previous_count = 0;
  int next_row = count / 4;
  while (static_cast<int>(fds.size()) < count) {
    std::vector<int> opened;
    const int n = std::min(batch, count - static_cast<int>(fds.size()));
    for (int i = 0; i < n; ++i) {
      const int index = static_cast<int>(fds.size()) + i;
      const in_addr_t source = (127u << 24) + 2 + static_cast<in_addr_t>(index / per_source);
      const int fd = ConnectFrom(source, server);
      if (fd < 0) {
        std::fprintf(stderr, "connection %d failed: %s\n", index, std::strerror(errno));
        std::exit(1);
      }
      opened.push_back(fd);
    }
    const int ok = CallEach(opened, 1);
    if (ok != n) {
      std::fprintf(stderr, "%d of %d first calls failed\n", n - ok, n);
      std::exit(1);
    }
    fds.insert(fds.end(), opened.begin(), opened.end());
    if (static_cast<int>(fds.size()) >= next_row) {
      const Rss now = ReadRss(pid);
      PrintRow("opened, each made one call", fds.size(), now, start, previous, previous_count);
      previous = now;
      previous_count = fds.size();
      next_row += count / 4;
    }
  }
  return fds;
}

// The connections that make the second call: all, or a sample plus the first and the last.
std::vector<int> Callers(const std::vector<int>& fds, int sample) {
  if (sample <= 0 || static_cast<size_t>(sample) + 2 >= fds.size()) return fds;
  std::vector<int> rest(fds.begin() + 1, fds.end() - 1);
  std::shuffle(rest.begin(), rest.end(), std::mt19937(18));
  rest.resize(static_cast<size_t>(sample));
  rest.push_back(fds.front());
  rest.push_back(fds.back());
  return rest;
}

int Main() {
  const int count = absl::GetFlag(FLAGS_connections);
  const rlim_t fd_limit = RaiseFdLimit(static_cast<rlim_t>(count) + 4096);
  if (fd_limit < static_cast<rlim_t>(count) + 256) {
    // Raising the hard limit needs CAP_SYS_RESOURCE (a container may drop it even for root).
    std::fprintf(stderr,
                 "the descriptor limit is %lu and cannot be raised here: too low for %d "
                 "connections; run with --connections=%lu or fewer\n",
                 static_cast<unsigned long>(fd_limit), count,
                 static_cast<unsigned long>(fd_limit > 1000 ? fd_limit - 1000 : 0));
    return 1;
  }
  std::vector<std::string> args = {
      "--listen=127.0.0.1:0",  "--io_threads=2",
      "--listen_backlog=4096", absl::StrCat("--max_connections=", count + 64),
      "--idle_timeout=24h",    "--keepalive_time=24h"};
  for (const std::string& a : absl::GetFlag(FLAGS_server_args)) args.push_back(a);
  absl::StatusOr<bench::ServerProcess> server =
      bench::ServerProcess::Start(absl::GetFlag(FLAGS_server), std::move(args));
  if (!server.ok()) {
    std::fprintf(stderr, "%s\n", server.status().ToString().c_str());
    return 1;
  }
  const pid_t pid = server->pid();
  const SocketAddress address = SocketAddress::Parse(server->address()).value();
  absl::SleepFor(absl::Milliseconds(200));
  std::printf("server %s, pid %d, on %s; %d connections, RLIMIT_NOFILE %lu\n",
              absl::GetFlag(FLAGS_server).c_str(), pid, server->address().c_str(), count,
              static_cast<unsigned long>(fd_limit));
  std::printf("%-34s %8s %10s %10s %12s %12s\n", "stage", "conns", "VmRSS MiB", "anon MiB",
              "KiB/conn", "KiB/conn step");
  const Rss start = ReadRss(pid);
  PrintRow("started, no connection", 0, start, start, start, 0);

  const absl::Time opening = absl::Now();
  std::vector<int> fds = OpenConnections(pid, address, count, start);
  const absl::Duration open_time = absl::Now() - opening;
  absl::SleepFor(absl::GetFlag(FLAGS_idle));
  const Rss idle = ReadRss(pid);
  PrintRow(absl::StrCat("all idle for ", absl::FormatDuration(absl::GetFlag(FLAGS_idle))),
           fds.size(), idle, start, start, 0);
  const bench::Sockets sockets = bench::SocketsOf(pid);
  std::printf("opened in %s; the server holds %d connections, %d fds\n",
              absl::FormatDuration(absl::Trunc(open_time, absl::Milliseconds(1))).c_str(),
              sockets.connections, bench::OpenFds(pid));

  const std::vector<int> callers = Callers(fds, absl::GetFlag(FLAGS_sample));
  int answered = 0;
  const int batch = absl::GetFlag(FLAGS_batch);
  for (size_t i = 0; i < callers.size(); i += batch) {
    const std::vector<int> some(callers.begin() + i,
                                callers.begin() + std::min(callers.size(), i + batch));
    answered += CallEach(some, 2);
  }
  std::printf("second call after the idle period: %d of %zu connections answered OK (%s)\n",
              answered, callers.size(),
              callers.size() == fds.size() ? "every connection"
                                           : "a random sample, the first and the last");
  PrintRow("after the second calls", fds.size(), ReadRss(pid), start, start, 0);
  for (int fd : fds) ::close(fd);
  server->Stop();
  return answered == static_cast<int>(callers.size()) ? 0 : 1;
}

}  // namespace
}  // namespace framerpc

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return framerpc::Main();
}

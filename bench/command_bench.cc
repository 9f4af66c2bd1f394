// command_bench: Run of /bin/true through the command service, one call at a time, against a
// local posix_spawn + waitpid of the same program measured in the same run (issue 3's floor).
// Rows take turns in each of --rounds rounds; the table shows the medians.
//
//   bazel build //bench:command_bench && bazel-bin/bench/command_bench --duration=1s --rounds=5
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "rpc/channel.h"
#include "rpc/server.h"
#include "services/command/command.frpc.h"
#include "services/command/command_service.h"

extern char** environ;

ABSL_FLAG(absl::Duration, duration, absl::Seconds(1), "Measured time per row and round.");
ABSL_FLAG(int, rounds, 5, "Rounds; the table shows medians.");

namespace framerpc::bench {
namespace {

constexpr char kProgram[] = "/bin/true";

// Spawns per second, one at a time, for `duration`.
absl::StatusOr<double> SpawnFloor(absl::Duration duration) {
  char* argv[] = {const_cast<char*>(kProgram), nullptr};
  char* envp[] = {const_cast<char*>("PATH=/usr/bin:/bin"), nullptr};
  const absl::Time start = absl::Now();
  const absl::Time end = start + duration;
  int64_t calls = 0;
  absl::Time now = start;
  while (now < end) {
    pid_t pid;
    if (posix_spawn(&pid, kProgram, nullptr, nullptr, argv, envp) != 0) {
      return absl::InternalError("posix_spawn failed");
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
      return absl::InternalError("waitpid failed");
    }
    ++calls;
    now = absl::Now();
  }
  return calls / absl::ToDoubleSeconds(now - start);
}

absl::StatusOr<double> RunCalls(command::CommandService::Stub* stub, absl::Duration duration) {
  command::RunRequest request;
  request.mutable_command()->add_argv(kProgram);
  command::RunResponse response;
  const absl::Time start = absl::Now();
  const absl::Time end = start + duration;
  int64_t calls = 0;
  absl::Time now = start;
  while (now < end) {
    ClientContext context;
    absl::Status status = stub->Run(&context, request, &response);
    if (!status.ok()) return status;
    if (response.exit().exit_code() != 0) return absl::InternalError("/bin/true failed");
    ++calls;
    now = absl::Now();
  }
  return calls / absl::ToDoubleSeconds(now - start);
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

int Main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const absl::Duration duration = absl::GetFlag(FLAGS_duration);
  command::CommandServiceConfig config;
  config.allowed_programs = {kProgram};
  config.access = auth::AccessPolicy::Open();  // the bench's own loopback server
  auto service = command::CommandServiceImpl::Create(std::move(config));
  if (!service.ok()) {
    std::fprintf(stderr, "%s\n", service.status().ToString().c_str());
    return 1;
  }
  ServerOptions options;
  options.io_threads = 1;
  Server server(options);
  absl::Status status = server.AddService(service->get(), ServiceOptions{.run_inline = false});
  if (status.ok()) status = server.AddListener("127.0.0.1:0");
  if (status.ok()) status = server.Start();
  auto channel = status.ok() ? Channel::Create(server.listen_address(0))
                             : absl::StatusOr<std::unique_ptr<Channel>>(status);
  if (!channel.ok()) {
    std::fprintf(stderr, "%s\n", channel.status().ToString().c_str());
    return 1;
  }
  command::CommandService::Stub stub(channel->get());
  std::vector<double> floor, framed;
  for (int round = -1; round < absl::GetFlag(FLAGS_rounds); ++round) {
    absl::StatusOr<double> f = SpawnFloor(duration);
    absl::StatusOr<double> r = RunCalls(&stub, duration);
    if (!f.ok() || !r.ok()) {
      std::fprintf(stderr, "%s / %s\n", f.status().ToString().c_str(),
                   r.status().ToString().c_str());
      return 1;
    }
    if (round < 0) continue;  // warm-up
    floor.push_back(*f);
    framed.push_back(*r);
  }
  std::printf("\n%s one at a time, median of %d x %s\n\n", kProgram, absl::GetFlag(FLAGS_rounds),
              absl::FormatDuration(duration).c_str());
  std::printf("| row | calls/s | x floor |\n|---|---:|---:|\n");
  std::printf("| posix_spawn + waitpid (floor) | %.0f | 1.00 |\n", Median(floor));
  std::printf("| CommandService.Run over TCP | %.0f | %.2f |\n", Median(framed),
              Median(framed) / Median(floor));
  server.Shutdown(absl::Seconds(5));
  return 0;
}

}  // namespace
}  // namespace framerpc::bench

int main(int argc, char** argv) { return framerpc::bench::Main(argc, argv); }

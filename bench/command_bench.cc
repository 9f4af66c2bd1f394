// command_bench: Run of /bin/true through the command service, one call at a time, under each
// containment mode (subreaper and pid_namespace, docs/command_service.md), against a
// local posix_spawn + waitpid of the same program measured in the same run (issue 3's floor).
// Rows take turns in each of --rounds rounds; the table shows the medians.
//
//   bazel build //bench:command_bench && bazel-bin/bench/command_bench --duration=1s --rounds=5
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <memory>
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
#include "base/status_macros.h"
#include "services/command/command_service.h"
#include "services/command/containment.h"

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

// A server with the command service under `containment`, and a channel to it.
struct CommandServer {
  std::unique_ptr<command::CommandServiceImpl> service;
  std::unique_ptr<Server> server;
  std::unique_ptr<Channel> channel;
  std::unique_ptr<command::CommandService::Stub> stub;
};

absl::StatusOr<CommandServer> StartCommandServer(command::ContainmentChoice containment) {
  command::CommandServiceConfig config;
  config.allowed_programs = {kProgram};
  config.access = auth::AccessPolicy::Open();  // the bench's own loopback server
  config.containment = containment;
  CommandServer out;
  FRPC_ASSIGN_OR_RETURN(out.service, command::CommandServiceImpl::Create(std::move(config)));
  ServerOptions options;
  options.io_threads = 1;
  out.server = std::make_unique<Server>(options);
  FRPC_RETURN_IF_ERROR(
      out.server->AddService(out.service.get(), ServiceOptions{.run_inline = false}));
  FRPC_RETURN_IF_ERROR(out.server->AddListener("127.0.0.1:0"));
  FRPC_RETURN_IF_ERROR(out.server->Start());
  FRPC_ASSIGN_OR_RETURN(out.channel, Channel::Create(out.server->listen_address(0)));
  out.stub = std::make_unique<command::CommandService::Stub>(out.channel.get());
  return out;
}

int Main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const absl::Duration duration = absl::GetFlag(FLAGS_duration);
  absl::StatusOr<CommandServer> subreaper =
      StartCommandServer(command::ContainmentChoice::kSubreaper);
  absl::StatusOr<CommandServer> namespaced =
      StartCommandServer(command::ContainmentChoice::kPidNamespace);
  if (!subreaper.ok() || !namespaced.ok()) {
    std::fprintf(stderr, "%s / %s\n", subreaper.status().ToString().c_str(),
                 namespaced.status().ToString().c_str());
    return 1;
  }
  std::vector<double> floor, reaped, contained;
  for (int round = -1; round < absl::GetFlag(FLAGS_rounds); ++round) {
    absl::StatusOr<double> f = SpawnFloor(duration);
    absl::StatusOr<double> r = RunCalls(subreaper->stub.get(), duration);
    absl::StatusOr<double> n = RunCalls(namespaced->stub.get(), duration);
    if (!f.ok() || !r.ok() || !n.ok()) {
      std::fprintf(stderr, "%s / %s / %s\n", f.status().ToString().c_str(),
                   r.status().ToString().c_str(), n.status().ToString().c_str());
      return 1;
    }
    if (round < 0) continue;  // warm-up
    floor.push_back(*f);
    reaped.push_back(*r);
    contained.push_back(*n);
  }
  std::printf("\n%s one at a time, median of %d x %s\n\n", kProgram, absl::GetFlag(FLAGS_rounds),
              absl::FormatDuration(duration).c_str());
  std::printf("| row | calls/s | x floor |\n|---|---:|---:|\n");
  std::printf("| posix_spawn + waitpid (floor) | %.0f | 1.00 |\n", Median(floor));
  std::printf("| Run over TCP, containment subreaper | %.0f | %.2f |\n", Median(reaped),
              Median(reaped) / Median(floor));
  std::printf("| Run over TCP, containment pid_namespace | %.0f | %.2f |\n", Median(contained),
              Median(contained) / Median(floor));
  subreaper->server->Shutdown(absl::Seconds(5));
  namespaced->server->Shutdown(absl::Seconds(5));
  return 0;
}

}  // namespace
}  // namespace framerpc::bench

int main(int argc, char** argv) { return framerpc::bench::Main(argc, argv); }

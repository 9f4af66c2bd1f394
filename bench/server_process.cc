#include "bench/server_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

extern char** environ;

namespace framerpc::bench {

absl::StatusOr<ServerProcess> ServerProcess::Start(const std::string& binary,
                                                   std::vector<std::string> args,
                                                   absl::Duration ready_within) {
  char dir[] = "/tmp/frpc-bench-server-XXXXXX";
  if (::mkdtemp(dir) == nullptr) return absl::UnavailableError("mkdtemp failed");
  const std::string ready = absl::StrCat(dir, "/ready");
  args.insert(args.begin(), binary);
  args.push_back("--ready_file=" + ready);
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const int spawned = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return absl::UnavailableError(absl::StrCat("cannot start ", binary));
  ServerProcess server(pid, "");
  const absl::Time give_up = absl::Now() + ready_within;
  while (server.address_.empty()) {
    std::ifstream in(ready);
    std::getline(in, server.address_);
    if (!server.address_.empty()) break;
    if (::waitpid(pid, nullptr, WNOHANG) == pid) {
      server.pid_ = -1;
      return absl::UnavailableError(absl::StrCat(binary, " exited before it was ready"));
    }
    if (absl::Now() > give_up) {
      return absl::UnavailableError(
          absl::StrCat(binary, " was not ready within ", absl::FormatDuration(ready_within)));
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  std::remove(ready.c_str());
  ::rmdir(dir);
  return server;
}

ServerProcess::ServerProcess(ServerProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), address_(std::move(other.address_)) {}

ServerProcess::~ServerProcess() { Stop(); }

int ServerProcess::Stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return status;
}

}  // namespace framerpc::bench

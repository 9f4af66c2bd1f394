#include "services/command/spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "rpc/status_macros.h"

namespace framerpc::command {
namespace {

// NULL-terminated views of `strings`; valid while `strings` is unchanged.
std::vector<char*> CStrings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const std::string& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

// RAII for the posix_spawn attribute objects.
class SpawnConfig {
 public:
  SpawnConfig() {
    posix_spawnattr_init(&attr_);
    posix_spawn_file_actions_init(&actions_);
  }
  ~SpawnConfig() {
    posix_spawn_file_actions_destroy(&actions_);
    posix_spawnattr_destroy(&attr_);
  }
  SpawnConfig(const SpawnConfig&) = delete;
  SpawnConfig& operator=(const SpawnConfig&) = delete;

  // Own process group; default dispositions for every signal (a server that ignores SIGPIPE must
  // not pass that on); nothing blocked.
  int SetAttributes() {
    sigset_t all;
    sigset_t none;
    sigfillset(&all);
    sigemptyset(&none);
    int rc = posix_spawnattr_setflags(
        &attr_, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    if (rc == 0) rc = posix_spawnattr_setpgroup(&attr_, 0);
    if (rc == 0) rc = posix_spawnattr_setsigdefault(&attr_, &all);
    if (rc == 0) rc = posix_spawnattr_setsigmask(&attr_, &none);
    return rc;
  }

  // stdin from `stdin_fd` or /dev/null, stdout/stderr to the pipes, chdir, then close the rest.
  int SetFileActions(int stdin_fd, int stdout_fd, int stderr_fd, const std::string& dir) {
    int rc = stdin_fd >= 0 ? posix_spawn_file_actions_adddup2(&actions_, stdin_fd, STDIN_FILENO)
                           : posix_spawn_file_actions_addopen(&actions_, STDIN_FILENO,
                                                              "/dev/null", O_RDONLY, 0);
    if (rc == 0) rc = posix_spawn_file_actions_adddup2(&actions_, stdout_fd, STDOUT_FILENO);
    if (rc == 0) rc = posix_spawn_file_actions_adddup2(&actions_, stderr_fd, STDERR_FILENO);
    if (rc == 0 && !dir.empty()) rc = posix_spawn_file_actions_addchdir_np(&actions_, dir.c_str());
    if (rc == 0) rc = posix_spawn_file_actions_addclosefrom_np(&actions_, STDERR_FILENO + 1);
    return rc;
  }

  const posix_spawnattr_t* attr() const { return &attr_; }
  const posix_spawn_file_actions_t* actions() const { return &actions_; }

 private:
  posix_spawnattr_t attr_;
  posix_spawn_file_actions_t actions_;
};

void KillAndReap(pid_t pid) {
  ::kill(-pid, SIGKILL);
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace

absl::StatusOr<SpawnedChild> SpawnChild(const SpawnRequest& request) {
  Pipe in;
  if (request.stdin_pipe) {
    FRPC_ASSIGN_OR_RETURN(in, MakePipe());
  }
  FRPC_ASSIGN_OR_RETURN(Pipe out, MakePipe());
  FRPC_ASSIGN_OR_RETURN(Pipe err, MakePipe());
  // Only our ends: O_NONBLOCK belongs to the open file description, which the child never shares.
  if (in.write_end.valid()) FRPC_RETURN_IF_ERROR(SetNonBlocking(in.write_end.get()));
  FRPC_RETURN_IF_ERROR(SetNonBlocking(out.read_end.get()));
  FRPC_RETURN_IF_ERROR(SetNonBlocking(err.read_end.get()));

  SpawnConfig config;
  int rc = config.SetAttributes();
  if (rc == 0) {
    rc = config.SetFileActions(in.read_end.get(), out.write_end.get(), err.write_end.get(),
                               request.working_directory);
  }
  if (rc != 0) return absl::ErrnoToStatus(rc, "posix_spawn setup");

  std::vector<char*> argv = CStrings(request.argv);
  std::vector<char*> envp = CStrings(request.envp);
  pid_t pid = -1;
  // glibc's posix_spawn reports execve and file-action failures in the child as its return value.
  rc = ::posix_spawn(&pid, request.path.c_str(), config.actions(), config.attr(), argv.data(),
                     envp.data());
  if (rc != 0) return absl::ErrnoToStatus(rc, absl::StrCat("cannot execute '", request.path, "'"));

  // The child cannot have been reaped yet (only we reap it), so this pidfd is for our child.
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    const int saved = errno;
    KillAndReap(pid);
    return absl::ErrnoToStatus(saved, "pidfd_open");
  }

  SpawnedChild child;
  child.pid = pid;
  child.pidfd.reset(pidfd);
  child.stdin_write = std::move(in.write_end);
  child.stdout_read = std::move(out.read_end);
  child.stderr_read = std::move(err.read_end);
  // The child's ends close here, in the parent, when `in`, `out` and `err` go out of scope.
  return child;
}

}  // namespace framerpc::command

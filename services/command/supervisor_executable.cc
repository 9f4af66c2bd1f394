#include "services/command/supervisor_executable.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"

namespace framerpc::command {
namespace {

constexpr char kRunfilesPath[] = "framerpc/services/command/";

struct State {
  absl::Mutex mu;
  bool decided ABSL_GUARDED_BY(mu) = false;
  std::string path ABSL_GUARDED_BY(mu);
  absl::StatusOr<int> fd ABSL_GUARDED_BY(mu) = -1;
};

State& GlobalState() {
  static State* state = new State;  // never destroyed: spawns may run during exit
  return *state;
}

// An O_PATH descriptor of `path` if it is an executable regular file.
absl::StatusOr<int> OpenExecutableFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_PATH | O_CLOEXEC);
  if (fd < 0) return absl::ErrnoToStatus(errno, path);
  struct stat st;
  int error = 0;
  if (::fstat(fd, &st) < 0) {
    error = errno;
  } else if (!S_ISREG(st.st_mode)) {
    error = EACCES;
  } else if (::faccessat(fd, "", X_OK, AT_EMPTY_PATH) < 0) {
    error = errno;
  }
  if (error != 0) {
    ::close(fd);
    return absl::ErrnoToStatus(error, absl::StrCat(path, " is not an executable file"));
  }
  return fd;
}

std::string SelfPath() {
  char buffer[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", buffer, sizeof buffer - 1);
  return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : std::string();
}

std::string EnvOrEmpty(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

// Sets *found to the path used.
absl::StatusOr<int> Search(std::string* found) {
  const std::vector<std::string> candidates = SupervisorCandidates(
      SelfPath(), EnvOrEmpty("RUNFILES_DIR"), EnvOrEmpty("TEST_SRCDIR"));
  for (const std::string& candidate : candidates) {
    if (::access(candidate.c_str(), F_OK) != 0) continue;
    *found = candidate;
    return OpenExecutableFile(candidate);
  }
  return absl::NotFoundError(absl::StrCat(
      "the command supervisor (", kSupervisorFileName, ") is not installed next to the server or in its runfiles; looked at ",
      absl::StrJoin(candidates, ", "), "; name it with --command_supervisor"));
}

}  // namespace

std::vector<std::string> SupervisorCandidates(const std::string& self,
                                              const std::string& runfiles_dir,
                                              const std::string& test_srcdir) {
  std::vector<std::string> out;
  if (!self.empty()) {
    const size_t slash = self.rfind('/');
    if (slash != std::string::npos) {
      out.push_back(absl::StrCat(self.substr(0, slash + 1), kSupervisorFileName));
    }
    out.push_back(absl::StrCat(self, ".runfiles/", kRunfilesPath, kSupervisorFileName));
  }
  for (const std::string* root : {&runfiles_dir, &test_srcdir}) {
    if (!root->empty()) out.push_back(absl::StrCat(*root, "/", kRunfilesPath, kSupervisorFileName));
  }
  return out;
}

absl::Status UseSupervisorExecutable(const std::string& path) {
  if (path.empty() || path[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("the command supervisor's path must be absolute: '", path, "'"));
  }
  absl::StatusOr<int> fd = OpenExecutableFile(path);
  if (!fd.ok()) return fd.status();
  State& state = GlobalState();
  absl::MutexLock lock(&state.mu);
  if (state.decided) {
    ::close(*fd);
    if (state.path == path && state.fd.ok()) return absl::OkStatus();
    return absl::FailedPreconditionError(absl::StrCat(
        "a command supervisor is already in use (", state.path, "); cannot switch to ", path));
  }
  state.decided = true;
  state.path = path;
  state.fd = fd;
  return absl::OkStatus();
}

absl::StatusOr<int> SupervisorExecutableFd() {
  State& state = GlobalState();
  absl::MutexLock lock(&state.mu);
  if (!state.decided) {
    state.decided = true;
    state.fd = Search(&state.path);
  }
  return state.fd;
}

}  // namespace framerpc::command

#include "services/command/program_path.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace framerpc::command {
namespace {

enum class Candidate { kMissing, kNotExecutable, kExecutable };

Candidate Probe(int dir_fd, const std::string& path) {
  struct stat st;
  if (::fstatat(dir_fd, path.c_str(), &st, 0) != 0) return Candidate::kMissing;
  if (!S_ISREG(st.st_mode) || ::faccessat(dir_fd, path.c_str(), X_OK, AT_EACCESS) != 0) {
    return Candidate::kNotExecutable;
  }
  return Candidate::kExecutable;
}

absl::StatusOr<std::string> ResolveWithSlash(absl::string_view program, int dir_fd) {
  const std::string path(program);
  switch (Probe(dir_fd, path)) {
    case Candidate::kExecutable:
      return path;
    case Candidate::kNotExecutable:
      return absl::PermissionDeniedError(
          absl::StrCat("program '", program, "' is not an executable file"));
    case Candidate::kMissing:
      break;
  }
  return absl::NotFoundError(absl::StrCat("program '", program, "' not found"));
}

}  // namespace

absl::StatusOr<std::string> ResolveProgram(absl::string_view program, absl::string_view path_env,
                                           int dir_fd) {
  if (program.empty()) return absl::InvalidArgumentError("empty program name");
  if (program.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError("program name contains a NUL byte");
  }
  if (program.find('/') != absl::string_view::npos) return ResolveWithSlash(program, dir_fd);
  bool saw_non_executable = false;
  for (absl::string_view dir : absl::StrSplit(path_env, ':')) {
    if (dir.empty() || dir.front() != '/') continue;
    std::string candidate = absl::StrCat(dir, dir.back() == '/' ? "" : "/", program);
    switch (Probe(AT_FDCWD, candidate)) {
      case Candidate::kExecutable:
        return candidate;
      case Candidate::kNotExecutable:
        saw_non_executable = true;
        break;
      case Candidate::kMissing:
        break;
    }
  }
  if (saw_non_executable) {
    return absl::PermissionDeniedError(
        absl::StrCat("program '", program, "' found in PATH but not executable"));
  }
  return absl::NotFoundError(absl::StrCat("program '", program, "' not found in PATH '",
                                          path_env, "'"));
}

absl::StatusOr<ScopedFd> OpenWorkingDirectory(absl::string_view dir) {
  if (dir.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError("working directory contains a NUL byte");
  }
  if (dir.empty() || dir.front() != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("working directory '", dir, "' is not an absolute path"));
  }
  ScopedFd fd(::open(std::string(dir).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (fd.valid()) return fd;
  if (errno == ENOTDIR) {
    // A missing component below a file is ENOTDIR too: tell "not a directory" apart.
    struct stat st;
    if (::stat(std::string(dir).c_str(), &st) == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("working directory '", dir, "' is not a directory"));
    }
    return absl::NotFoundError(absl::StrCat("working directory '", dir, "' does not exist"));
  }
  if (errno == ENOENT) {
    return absl::NotFoundError(absl::StrCat("working directory '", dir, "' does not exist"));
  }
  return absl::ErrnoToStatus(errno, absl::StrCat("working directory '", dir, "'"));
}

}  // namespace framerpc::command

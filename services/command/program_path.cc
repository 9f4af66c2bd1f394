#include "services/command/program_path.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace framerpc::command {
namespace {

enum class Candidate { kMissing, kNotExecutable, kExecutable };

Candidate Probe(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return Candidate::kMissing;
  if (!S_ISREG(st.st_mode) || ::access(path.c_str(), X_OK) != 0) return Candidate::kNotExecutable;
  return Candidate::kExecutable;
}

std::string CurrentDirectory() {
  std::vector<char> buf(4096);
  while (::getcwd(buf.data(), buf.size()) == nullptr && errno == ERANGE) buf.resize(buf.size() * 2);
  return std::string(buf.data());
}

absl::StatusOr<std::string> ResolveWithSlash(absl::string_view program,
                                             absl::string_view working_directory) {
  std::string path;
  if (program.front() == '/') {
    path = std::string(program);
  } else {
    const std::string base =
        working_directory.empty() ? CurrentDirectory() : std::string(working_directory);
    path = absl::StrCat(base, base.back() == '/' ? "" : "/", program);
  }
  switch (Probe(path)) {
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
                                           absl::string_view working_directory) {
  if (program.empty()) return absl::InvalidArgumentError("empty program name");
  if (program.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError("program name contains a NUL byte");
  }
  if (program.find('/') != absl::string_view::npos) {
    return ResolveWithSlash(program, working_directory);
  }
  bool saw_non_executable = false;
  for (absl::string_view dir : absl::StrSplit(path_env, ':')) {
    if (dir.empty() || dir.front() != '/') continue;
    std::string candidate = absl::StrCat(dir, dir.back() == '/' ? "" : "/", program);
    switch (Probe(candidate)) {
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

absl::Status CheckWorkingDirectory(absl::string_view dir) {
  if (dir.empty()) return absl::OkStatus();
  if (dir.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError("working directory contains a NUL byte");
  }
  if (dir.front() != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("working directory '", dir, "' is not an absolute path"));
  }
  struct stat st;
  if (::stat(std::string(dir).c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return absl::NotFoundError(absl::StrCat("working directory '", dir, "' does not exist"));
    }
    return absl::ErrnoToStatus(errno, absl::StrCat("working directory '", dir, "'"));
  }
  if (!S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat("working directory '", dir, "' is not a directory"));
  }
  return absl::OkStatus();
}

}  // namespace framerpc::command

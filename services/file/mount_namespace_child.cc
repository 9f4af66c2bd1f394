#include "services/file/mount_namespace_child.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "base/scoped_fd.h"

namespace framerpc::file {
namespace {

// The threads of this process (entries of /proc/self/task), or -1 if that cannot be read.
int CountThreads() {
  DIR* tasks = ::opendir("/proc/self/task");
  if (tasks == nullptr) return -1;
  int threads = 0;
  while (const struct dirent* entry = ::readdir(tasks)) {
    if (entry->d_name[0] != '.') ++threads;
  }
  ::closedir(tasks);
  return threads;
}

void WriteAllTo(int fd, absl::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    text.remove_prefix(static_cast<size_t>(n));
  }
}

// In the child: a namespace of its own, "/" private in it, then the body. Never returns.
[[noreturn]] void RunChild(int report_fd, const std::function<std::string()>& body) {
  if (::unshare(CLONE_NEWNS) != 0) {
    WriteAllTo(report_fd, absl::StrCat("unshare(CLONE_NEWNS): ", strerror(errno)));
    ::_exit(2);
  }
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    WriteAllTo(report_fd, absl::StrCat("making / private: ", strerror(errno)));
    ::_exit(2);
  }
  WriteAllTo(report_fd, body());
  ::_exit(0);
}

}  // namespace

absl::StatusOr<std::string> RunInChildMountNamespace(const std::function<std::string()>& body) {
  const int threads = CountThreads();
  if (threads != 1) {
    return absl::FailedPreconditionError(absl::StrCat(
        "RunInChildMountNamespace needs a single-threaded caller, not ", threads, " threads"));
  }
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return absl::InternalError(strerror(errno));
  ScopedFd read_end(fds[0]);
  ScopedFd write_end(fds[1]);
  const pid_t child = ::fork();
  if (child < 0) return absl::InternalError(absl::StrCat("fork: ", strerror(errno)));
  if (child == 0) {
    read_end.reset();
    RunChild(write_end.get(), body);
  }
  write_end.reset();
  std::string report;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(read_end.get(), buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    report.append(buffer, static_cast<size_t>(n));
  }
  int wait_status = 0;
  while (::waitpid(child, &wait_status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(wait_status) || WEXITSTATUS(wait_status) != 0) {
    return absl::InternalError(
        absl::StrCat("the child ended with wait status ", wait_status, ", reporting: ", report));
  }
  return report;
}

std::string ReportLine(absl::string_view label, const absl::Status& status) {
  if (status.ok()) return absl::StrCat(label, ": OK\n");
  return absl::StrCat(label, ": ", absl::StatusCodeToString(status.code()), ": ", status.message(),
                      "\n");
}

std::string ReportedFor(absl::string_view report, absl::string_view label) {
  const std::string key = absl::StrCat(label, ": ");
  for (size_t at = 0; at < report.size();) {
    size_t end = report.find('\n', at);
    if (end == absl::string_view::npos) end = report.size();
    const absl::string_view line = report.substr(at, end - at);
    if (line.substr(0, key.size()) == key) return std::string(line.substr(key.size()));
    at = end + 1;
  }
  return "";
}

}  // namespace framerpc::file

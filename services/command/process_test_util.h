// Helpers for the process runner tests.
#ifndef FRAMERPC_SERVICES_COMMAND_PROCESS_TEST_UTIL_H_
#define FRAMERPC_SERVICES_COMMAND_PROCESS_TEST_UTIL_H_

#include <dirent.h>
#include <signal.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "services/command/containment.h"
#include "services/command/process.h"
#include "services/command/program_path.h"

namespace framerpc::command::test {

// The containment the tests of this binary run under: each suite is built twice, once per mode
// (BUILD.bazel sets FRPC_TEST_CONTAINMENT=subreaper for the second); pid_namespace otherwise.
inline Containment TestContainment() {
  const char* mode = ::getenv("FRPC_TEST_CONTAINMENT");
  return mode != nullptr && std::string(mode) == "subreaper" ? Containment::kSubreaper
                                                             : Containment::kPidNamespace;
}

inline ProcessOptions Options(std::vector<std::string> argv) {
  ProcessOptions options;
  options.argv = std::move(argv);
  options.containment = TestContainment();
  return options;
}

// `path` opened as a working directory, failing the test if it cannot be.
inline ScopedFd OpenDir(const std::string& path) {
  absl::StatusOr<ScopedFd> fd = OpenWorkingDirectory(path);
  EXPECT_TRUE(fd.ok()) << fd.status();
  return fd.ok() ? *std::move(fd) : ScopedFd();
}

// RunToCompletion, failing the test if it could not start.
inline ProcessOutput RunChecked(ProcessOptions options) {
  absl::StatusOr<ProcessOutput> output = RunToCompletion(std::move(options));
  EXPECT_TRUE(output.ok()) << output.status();
  return output.ok() ? *std::move(output) : ProcessOutput{};
}

// A fresh directory under the test's temporary directory.
inline std::string MakeTempDir() {
  std::string pattern = absl::StrCat(::testing::TempDir(), "/cmdXXXXXX");
  if (::mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
  return pattern;
}

inline bool FileExists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

// A pidfd for any process (not only our children); -1 if it no longer exists.
inline int OpenPidfd(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

// Waits for the process behind `pidfd` to exit (become a zombie or vanish). An event, not a
// sleep: `timeout` only bounds a failing test.
inline bool WaitForPidfd(int pidfd, absl::Duration timeout) {
  pollfd pfd = {pidfd, POLLIN, 0};
  return ::poll(&pfd, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout))) == 1;
}

// The first line of `text` as a pid, or -1.
inline pid_t ParsePid(absl::string_view text) {
  const size_t newline = text.find('\n');
  int pid = -1;
  if (newline == absl::string_view::npos || !absl::SimpleAtoi(text.substr(0, newline), &pid)) {
    return -1;
  }
  return pid;
}

// A string to put in the argv of every process a test starts, so that /proc shows which are
// still alive: a number, so that `sleep <token>` carries it too ("1000.123456789" seconds).
inline std::string UniqueToken() {
  std::random_device random;
  return absl::StrCat("1000.", 100000000 + random() % 900000000);
}

// The command line of `pid` with NULs as spaces; empty if it is gone.
inline std::string CommandLine(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/cmdline"));
  std::stringstream text;
  text << in.rdbuf();
  std::string line = text.str();
  for (char& c : line) {
    if (c == '\0') c = ' ';
  }
  return line;
}

// Every process on this host whose command line contains `token` (this process's own is
// excluded), as "pid: command line" strings, so that failures print what was left.
inline std::vector<std::string> ProcessesWith(const std::string& token) {
  std::vector<std::string> found;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return {"cannot open /proc"};
  while (const dirent* entry = ::readdir(proc)) {
    int pid;
    if (!absl::SimpleAtoi(entry->d_name, &pid) || pid == ::getpid()) continue;
    const std::string line = CommandLine(pid);
    if (line.find(token) != std::string::npos) found.push_back(absl::StrCat(pid, ": ", line));
  }
  ::closedir(proc);
  return found;
}

// The pids of ProcessesWith(token).
inline std::vector<pid_t> PidsWith(const std::string& token) {
  std::vector<pid_t> pids;
  for (const std::string& found : ProcessesWith(token)) {
    int pid;
    if (absl::SimpleAtoi(found.substr(0, found.find(':')), &pid)) pids.push_back(pid);
  }
  return pids;
}

// PidsWith(token) once it finds at least `n` processes (or whatever it finds when `timeout`, which
// only bounds a failing test, passes). A process in the middle of execve shows an empty command
// line for a moment, so a single scan can miss one that is running.
inline std::vector<pid_t> WaitForPidsWith(const std::string& token, size_t n,
                                          absl::Duration timeout = absl::Seconds(30)) {
  const absl::Time give_up = absl::Now() + timeout;
  std::vector<pid_t> pids = PidsWith(token);
  while (pids.size() < n && absl::Now() < give_up) {
    std::this_thread::yield();
    pids = PidsWith(token);
  }
  return pids;
}

// SIGKILLs whatever ProcessesWith(token) finds (a failing test must not leave processes behind)
// and waits for each to be gone. Returns how many there were.
inline size_t KillProcessesWith(const std::string& token) {
  std::vector<int> pidfds;
  for (pid_t pid : PidsWith(token)) {
    const int pidfd = OpenPidfd(pid);
    if (pidfd < 0) continue;
    ::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
    pidfds.push_back(pidfd);
  }
  for (int pidfd : pidfds) {
    WaitForPidfd(pidfd, absl::Seconds(30));
    ::close(pidfd);
  }
  return pidfds.size();
}

// The state letter in /proc/<pid>/stat ('R', 'S', 'T', 'Z', ...), or '?' if it is gone.
inline char ProcessState(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = stat.rfind(')');
  return close == std::string::npos || close + 2 >= stat.size() ? '?' : stat[close + 2];
}

}  // namespace framerpc::command::test

#endif  // FRAMERPC_SERVICES_COMMAND_PROCESS_TEST_UTIL_H_

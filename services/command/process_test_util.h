// Helpers for the process runner tests.
#ifndef FRAMERPC_SERVICES_COMMAND_PROCESS_TEST_UTIL_H_
#define FRAMERPC_SERVICES_COMMAND_PROCESS_TEST_UTIL_H_

#include <poll.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "services/command/process.h"

namespace framerpc::command::test {

inline ProcessOptions Options(std::vector<std::string> argv) {
  ProcessOptions options;
  options.argv = std::move(argv);
  return options;
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

}  // namespace framerpc::command::test

#endif  // FRAMERPC_SERVICES_COMMAND_PROCESS_TEST_UTIL_H_

// Helpers shared by the end-to-end tests.
#ifndef FRAMERPC_TESTS_TEST_UTIL_H_
#define FRAMERPC_TESTS_TEST_UTIL_H_

#include <dirent.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace framerpc::test {

// Open file descriptors of this process.
inline int CountOpenFds() {
  int count = 0;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  while (dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  ::closedir(dir);
  return count - 1;  // The DIR's own fd.
}

// A fresh, private directory for Unix socket paths. Under /tmp, not Bazel's TEST_TMPDIR: socket
// paths are limited to 107 bytes, and TEST_TMPDIR is often longer.
inline std::string MakeTempDir() {
  std::string pattern = "/tmp/frpcXXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) return "/tmp";
  return pattern;
}

}  // namespace framerpc::test

#define FRPC_EXPECT_OK(expr)                     \
  do {                                           \
    const ::absl::Status frpc_s_ = (expr);       \
    EXPECT_TRUE(frpc_s_.ok()) << frpc_s_;        \
  } while (0)

#define FRPC_ASSERT_OK(expr)                     \
  do {                                           \
    const ::absl::Status frpc_s_ = (expr);       \
    ASSERT_TRUE(frpc_s_.ok()) << frpc_s_;        \
  } while (0)

#endif  // FRAMERPC_TESTS_TEST_UTIL_H_

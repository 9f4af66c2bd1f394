// A scratch directory tree for the file-service tests, with tripwires outside the served root:
//
//   <base>/canary               "CANARY"        a file outside the root
//   <base>/outside/secret.txt   "SECRET"        a directory outside the root
//   <base>/root/                                the root the tests serve
//
// inotify watches the canary and the outside directory from construction on. Any open, read,
// write, attribute change, creation or rename there shows up in TakeOutsideEvents(), and
// ExpectOutsideUntouched() fails the test on any event or content change. (Opens with O_PATH
// and stat(2) raise no inotify event; the tests check those paths are refused by status.)
//
// Not thread-safe: set up and inspect from the test's main thread.
#ifndef FRAMERPC_SERVICES_FILE_TEST_TREE_H_
#define FRAMERPC_SERVICES_FILE_TEST_TREE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "base/scoped_fd.h"
#include "services/file/root_dir.h"

namespace framerpc::file {

class TestTree {
 public:
  TestTree();   // Creates the tree under $TEST_TMPDIR (or /tmp) and starts watching.
  ~TestTree();  // Removes the whole tree.
  TestTree(const TestTree&) = delete;
  TestTree& operator=(const TestTree&) = delete;

  const std::string& base() const { return base_; }
  const std::string& root() const { return root_; }
  std::string canary() const { return base_ + "/canary"; }
  std::string outside() const { return base_ + "/outside"; }
  // The absolute path of `relative` inside the root.
  std::string InRoot(absl::string_view relative) const;

  // Set-up helpers on absolute paths; each fails the test (ADD_FAILURE) if the call fails.
  static void WriteFile(const std::string& path, absl::string_view content);
  static std::string ReadFile(const std::string& path);
  static void MakeDir(const std::string& path);
  static void Symlink(const std::string& target, const std::string& link_path);
  static void Rename(const std::string& from, const std::string& to);
  // Names in a directory (without "." and ".."), sorted.
  static std::vector<std::string> ListNames(const std::string& dir);
  // Everything left to read on `fd`.
  static std::string ReadAll(int fd);
  static void WriteAll(int fd, absl::string_view content);

  // Descriptions of the inotify events seen outside the root since the last call.
  std::vector<std::string> TakeOutsideEvents();
  // Fails the test if anything outside the root was opened, read, written or changed.
  void ExpectOutsideUntouched();

 private:
  std::string base_;
  std::string root_;
  ScopedFd inotify_;
};

// How a test's RootDir resolves paths, stages uploads and reopens files; the tests run under each.
struct TestMode {
  const char* name;
  bool fallback_walk;  // RootDirOptions::force_fallback_walk
  // RootDirOptions::use_proc_self_fd: with it, uploads are staged in O_TMPFILE files and files
  // are reopened through /proc/self/fd; without it (as if /proc were not mounted), uploads are
  // staged in named temp files and files are reopened by a second resolution.
  bool proc;
};
// openat2 and the fallback walk, each with and without /proc.
std::vector<TestMode> AllTestModes();
// Sets the options `mode` decides.
void ApplyTestMode(const TestMode& mode, RootDirOptions* options);
// For INSTANTIATE_TEST_SUITE_P's name generator.
std::string TestModeName(const ::testing::TestParamInfo<TestMode>& info);

// Success iff `status` has `code` and a message containing `message_part`. Use as
// EXPECT_TRUE(HasStatus(s, absl::StatusCode::kNotFound)).
::testing::AssertionResult HasStatus(const absl::Status& status, absl::StatusCode code,
                                     absl::string_view message_part = "");

}  // namespace framerpc::file

#endif  // FRAMERPC_SERVICES_FILE_TEST_TREE_H_

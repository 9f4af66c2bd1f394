#include "services/file/test_tree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace framerpc::file {
namespace {

constexpr char kCanary[] = "CANARY";
constexpr char kSecret[] = "SECRET";
constexpr uint32_t kWatchMask = IN_ACCESS | IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_OPEN |
                                IN_CREATE | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF |
                                IN_MOVED_FROM | IN_MOVED_TO;

std::string ErrnoText() { return absl::StrCat(strerror(errno), " (errno ", errno, ")"); }

int RemoveEntry(const char* path, const struct stat*, int, struct FTW*) { return ::remove(path); }

std::string DescribeMask(uint32_t mask) {
  std::string out;
  const struct {
    uint32_t bit;
    const char* name;
  } kNames[] = {{IN_ACCESS, "ACCESS"},       {IN_MODIFY, "MODIFY"},
                {IN_ATTRIB, "ATTRIB"},       {IN_CLOSE_WRITE, "CLOSE_WRITE"},
                {IN_OPEN, "OPEN"},           {IN_CREATE, "CREATE"},
                {IN_DELETE, "DELETE"},       {IN_DELETE_SELF, "DELETE_SELF"},
                {IN_MOVE_SELF, "MOVE_SELF"}, {IN_MOVED_FROM, "MOVED_FROM"},
                {IN_MOVED_TO, "MOVED_TO"}};
  for (const auto& entry : kNames) {
    if (mask & entry.bit) absl::StrAppend(&out, out.empty() ? "" : "|", entry.name);
  }
  return out;
}

}  // namespace

TestTree::TestTree() {
  const char* tmp = ::getenv("TEST_TMPDIR");
  std::string pattern = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/file_root_XXXXXX");
  if (::mkdtemp(pattern.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp " << pattern << ": " << ErrnoText();
    return;
  }
  base_ = pattern;
  root_ = base_ + "/root";
  MakeDir(root_);
  MakeDir(outside());
  WriteFile(canary(), kCanary);
  WriteFile(outside() + "/secret.txt", kSecret);
  inotify_.reset(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!inotify_.valid() || ::inotify_add_watch(inotify_.get(), canary().c_str(), kWatchMask) < 0 ||
      ::inotify_add_watch(inotify_.get(), outside().c_str(), kWatchMask) < 0 ||
      ::inotify_add_watch(inotify_.get(), (outside() + "/secret.txt").c_str(), kWatchMask) < 0) {
    ADD_FAILURE() << "inotify: " << ErrnoText();
  }
}

TestTree::~TestTree() {
  inotify_.reset();
  if (!base_.empty()) ::nftw(base_.c_str(), RemoveEntry, 16, FTW_DEPTH | FTW_PHYS);
}

std::string TestTree::InRoot(absl::string_view relative) const {
  return absl::StrCat(root_, "/", relative);
}

void TestTree::WriteFile(const std::string& path, absl::string_view content) {
  ScopedFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.valid()) {
    ADD_FAILURE() << "open " << path << ": " << ErrnoText();
    return;
  }
  WriteAll(fd.get(), content);
}

std::string TestTree::ReadFile(const std::string& path) {
  ScopedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    ADD_FAILURE() << "open " << path << ": " << ErrnoText();
    return "";
  }
  return ReadAll(fd.get());
}

void TestTree::MakeDir(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0) ADD_FAILURE() << "mkdir " << path << ": " << ErrnoText();
}

void TestTree::Symlink(const std::string& target, const std::string& link_path) {
  if (::symlink(target.c_str(), link_path.c_str()) != 0) {
    ADD_FAILURE() << "symlink " << link_path << ": " << ErrnoText();
  }
}

void TestTree::Rename(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    ADD_FAILURE() << "rename " << from << " " << to << ": " << ErrnoText();
  }
}

std::vector<std::string> TestTree::ListNames(const std::string& dir) {
  std::vector<std::string> names;
  DIR* stream = ::opendir(dir.c_str());
  if (stream == nullptr) {
    ADD_FAILURE() << "opendir " << dir << ": " << ErrnoText();
    return names;
  }
  while (const struct dirent* entry = ::readdir(stream)) {
    const std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(stream);
  std::sort(names.begin(), names.end());
  return names;
}

std::string TestTree::ReadAll(int fd) {
  std::string out;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) ADD_FAILURE() << "read: " << ErrnoText();
    if (n <= 0) return out;
    out.append(buffer, static_cast<size_t>(n));
  }
}

void TestTree::WriteAll(int fd, absl::string_view content) {
  while (!content.empty()) {
    const ssize_t n = ::write(fd, content.data(), content.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ADD_FAILURE() << "write: " << ErrnoText();
      return;
    }
    content.remove_prefix(static_cast<size_t>(n));
  }
}

std::vector<std::string> TestTree::TakeOutsideEvents() {
  std::vector<std::string> events;
  alignas(struct inotify_event) char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(inotify_.get(), buffer, sizeof(buffer));
    if (n <= 0) return events;  // EAGAIN: nothing (more) queued.
    for (ssize_t offset = 0; offset < n;) {
      const auto* event = reinterpret_cast<const struct inotify_event*>(buffer + offset);
      events.push_back(absl::StrCat(DescribeMask(event->mask), " ",
                                    event->len > 0 ? event->name : "(watched file itself)"));
      offset += static_cast<ssize_t>(sizeof(struct inotify_event) + event->len);
    }
  }
}

void TestTree::ExpectOutsideUntouched() {
  // Events first: reading the files below raises events of its own.
  const std::vector<std::string> events = TakeOutsideEvents();
  EXPECT_TRUE(events.empty()) << "outside the root: " << ::testing::PrintToString(events);
  EXPECT_EQ(ReadFile(canary()), kCanary);
  EXPECT_EQ(ListNames(outside()), std::vector<std::string>{"secret.txt"});
  EXPECT_EQ(ReadFile(outside() + "/secret.txt"), kSecret);
  TakeOutsideEvents();
}

std::vector<TestMode> AllTestModes() {
  return {{"Openat2_Proc", false, true},
          {"Openat2_NoProc", false, false},
          {"Walk_Proc", true, true},
          {"Walk_NoProc", true, false}};
}

void ApplyTestMode(const TestMode& mode, RootDirOptions* options) {
  options->force_fallback_walk = mode.fallback_walk;
  options->use_proc_self_fd = mode.proc;
}

std::string TestModeName(const ::testing::TestParamInfo<TestMode>& info) { return info.param.name; }

::testing::AssertionResult HasStatus(const absl::Status& status, absl::StatusCode code,
                                     absl::string_view message_part) {
  if (status.code() == code && absl::StrContains(status.message(), message_part)) {
    return ::testing::AssertionSuccess() << status;
  }
  return ::testing::AssertionFailure()
         << "got " << status << "; want code " << absl::StatusCodeToString(code)
         << " with a message containing '" << message_part << "'";
}

}  // namespace framerpc::file

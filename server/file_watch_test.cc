#include "server/file_watch.h"

#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "transport/tls/test_pki.h"

namespace framerpc::server {
namespace {

// Counts on_change calls and lets the test wait for the n-th.
class Calls {
 public:
  void Add() {
    std::lock_guard<std::mutex> lock(mu_);
    ++count_;
    cv_.notify_all();
  }
  // The count once it reaches `n`, or what it is after 30 s.
  int WaitFor(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(30), [&] { return count_ >= n; });
    return count_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int count_ = 0;  // guarded by mu_
};

void Write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::trunc) << text;
}

class FileWatchTest : public ::testing::Test {
 protected:
  FileWatchTest() : dir_(TestPkiDir("file_watch")) {}
  std::unique_ptr<FileWatch> Watch(std::vector<std::string> files) {
    absl::StatusOr<std::unique_ptr<FileWatch>> watch =
        FileWatch::Start(std::move(files), [this] { calls_.Add(); }, {absl::Milliseconds(20)});
    EXPECT_TRUE(watch.ok()) << watch.status();
    return watch.ok() ? *std::move(watch) : nullptr;
  }
  std::string dir_;
  Calls calls_;
};

TEST_F(FileWatchTest, AWriteInPlaceIsSeen) {
  const std::string file = dir_ + "/in_place.pem";
  Write(file, "one");
  std::unique_ptr<FileWatch> watch = Watch({file});
  ASSERT_NE(watch, nullptr);
  Write(file, "two, longer");
  EXPECT_EQ(calls_.WaitFor(1), 1);
}

TEST_F(FileWatchTest, ARenameIntoPlaceIsSeenAndOtherFilesAreNot) {
  const std::string file = dir_ + "/renamed.pem";
  Write(file, "one");
  std::unique_ptr<FileWatch> watch = Watch({file});
  ASSERT_NE(watch, nullptr);
  // Events for another file of the directory come first; they change nothing watched, so the
  // only call is the rename's.
  Write(dir_ + "/unrelated", "x");
  Write(file + ".tmp", "two");
  ASSERT_EQ(std::rename((file + ".tmp").c_str(), file.c_str()), 0);
  EXPECT_EQ(calls_.WaitFor(1), 1);
  Write(file + ".tmp", "three");
  ASSERT_EQ(std::rename((file + ".tmp").c_str(), file.c_str()), 0);
  EXPECT_EQ(calls_.WaitFor(2), 2);
}

// A Kubernetes secret volume: the file is a symlink through ..data, and an update swaps ..data
// (a symlink to a new directory) by a rename; the file itself is never touched.
TEST_F(FileWatchTest, ASymlinkSwapIsSeen) {
  const std::string root = absl::StrCat(dir_, "/secret");
  for (const char* sub : {"", "/v1", "/v2"}) ::mkdir(absl::StrCat(root, sub).c_str(), 0700);
  Write(root + "/v1/tls.crt", "one");
  Write(root + "/v2/tls.crt", "two");
  ::unlink((root + "/..data").c_str());
  ::unlink((root + "/tls.crt").c_str());
  ASSERT_EQ(::symlink("v1", (root + "/..data").c_str()), 0);
  ASSERT_EQ(::symlink("..data/tls.crt", (root + "/tls.crt").c_str()), 0);
  std::unique_ptr<FileWatch> watch = Watch({root + "/tls.crt"});
  ASSERT_NE(watch, nullptr);
  ::unlink((root + "/..data_tmp").c_str());
  ASSERT_EQ(::symlink("v2", (root + "/..data_tmp").c_str()), 0);
  ASSERT_EQ(std::rename((root + "/..data_tmp").c_str(), (root + "/..data").c_str()), 0);
  EXPECT_EQ(calls_.WaitFor(1), 1);
}

TEST_F(FileWatchTest, AMissingDirectoryIsAnError) {
  absl::StatusOr<std::unique_ptr<FileWatch>> watch =
      FileWatch::Start({dir_ + "/no/such/dir/cert.pem"}, [] {}, {});
  ASSERT_FALSE(watch.ok());
  EXPECT_EQ(watch.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(watch.status().message().find("cannot watch directory"), std::string::npos);
}

}  // namespace
}  // namespace framerpc::server

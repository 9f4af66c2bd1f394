// RootDir under concurrency: many threads on one RootDir (run under --config=tsan), racing
// uploads to one name, and a thread swapping a directory for a symlink out of the root while
// reads and uploads go through it. No sleeps: threads meet at a BlockingCounter/Notification,
// and the swapper runs until told to stop.
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/notification.h"
#include "gtest/gtest.h"
#include "services/file/root_dir.h"
#include "services/file/test_tree.h"

namespace framerpc::file {
namespace {

using Code = absl::StatusCode;
using Names = std::vector<std::string>;

constexpr int kThreads = 8;

class ConcurrencyTest : public ::testing::TestWithParam<TestMode> {
 protected:
  void SetUp() override {
    TestTree::MakeDir(tree_.InRoot("a"));
    TestTree::WriteFile(tree_.InRoot("a/file.txt"), "hello");
    TestTree::MakeDir(tree_.InRoot("w"));
    RootDirOptions options;
    options.writable = true;
    ApplyTestMode(GetParam(), &options);
    auto root = RootDir::Open(tree_.root(), options);
    ASSERT_TRUE(root.ok()) << root.status();
    root_ = std::move(root).value();
  }
  void TearDown() override { tree_.ExpectOutsideUntouched(); }

  TestTree tree_;
  std::unique_ptr<RootDir> root_;
};

TEST_P(ConcurrencyTest, ManyThreadsShareOneRootDir) {
  constexpr int kIterations = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kIterations; ++i) {
        auto info = root_->Stat("a/file.txt");
        auto fd = root_->OpenForRead("a/file.txt");
        auto listing = root_->List("a");
        if (!info.ok() || info->size != 5 || !fd.ok() || TestTree::ReadAll(fd->get()) != "hello" ||
            !listing.ok() || listing->entries.size() != 1) {
          failures.fetch_add(1);
        }
        auto pending = root_->CreateTemp(absl::StrCat("w/t", t, "-", i));
        if (!pending.ok()) {
          failures.fetch_add(1);
          continue;
        }
        TestTree::WriteAll((*pending)->fd(), absl::StrCat(t, "-", i));
        if (!(*pending)->Commit(false).ok()) failures.fetch_add(1);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(TestTree::ListNames(tree_.InRoot("w")).size(), size_t{kThreads * kIterations});
  EXPECT_EQ(TestTree::ReadFile(tree_.InRoot("w/t3-7")), "3-7");
}

TEST_P(ConcurrencyTest, RacingNoOverwriteUploadsHaveExactlyOneWinner) {
  BlockingCounter ready(kThreads);
  Notification go;
  std::vector<Code> results(kThreads, Code::kUnknown);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto pending = root_->CreateTemp("w/race.txt");
      if (pending.ok()) TestTree::WriteAll((*pending)->fd(), absl::StrCat("writer ", t));
      ready.DecrementCount();
      go.WaitForNotification();
      if (pending.ok()) results[t] = (*pending)->Commit(false).code();
    });
  }
  ready.Wait();
  go.Notify();
  for (std::thread& thread : threads) thread.join();
  int winner = -1;
  for (int t = 0; t < kThreads; ++t) {
    if (results[t] == Code::kOk) {
      EXPECT_EQ(winner, -1) << "two winners";
      winner = t;
    } else {
      EXPECT_EQ(results[t], Code::kAlreadyExists) << "thread " << t;
    }
  }
  ASSERT_NE(winner, -1);
  EXPECT_EQ(TestTree::ReadFile(tree_.InRoot("w/race.txt")), absl::StrCat("writer ", winner));
  EXPECT_EQ(TestTree::ListNames(tree_.InRoot("w")), Names{"race.txt"});
}

// The time-of-check/time-of-use attack, live: "s" flips between a real directory and a symlink
// out of the root (renameat2 RENAME_EXCHANGE, atomic) while reads and uploads go through it.
// Each call may succeed or be refused, but a read only ever sees the file inside, an upload only
// ever lands in the real directory, and nothing outside is touched (checked in TearDown).
TEST_P(ConcurrencyTest, DirectorySwappedToASymlinkMidFlightNeverLeaks) {
  constexpr int kReads = 300;
  constexpr int kUploads = 100;
  TestTree::MakeDir(tree_.InRoot("s"));
  TestTree::WriteFile(tree_.InRoot("s/secret.txt"), "inside");
  TestTree::Symlink(tree_.outside(), tree_.InRoot("s_alt"));
  const std::string s = tree_.InRoot("s");
  const std::string s_alt = tree_.InRoot("s_alt");

  std::atomic<bool> stop{false};
  std::atomic<int> swaps{0};
  std::thread swapper([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      if (::renameat2(AT_FDCWD, s.c_str(), AT_FDCWD, s_alt.c_str(), RENAME_EXCHANGE) == 0) {
        swaps.fetch_add(1, std::memory_order_relaxed);
      }
    }
  });

  int reads_ok = 0;
  for (int i = 0; i < kReads; ++i) {
    auto fd = root_->OpenForRead("s/secret.txt");
    if (fd.ok()) {
      ++reads_ok;
      EXPECT_EQ(TestTree::ReadAll(fd->get()), "inside");
    } else {
      EXPECT_EQ(fd.status().code(), Code::kPermissionDenied) << fd.status();
    }
  }
  int uploads_ok = 0;
  for (int i = 0; i < kUploads; ++i) {
    auto pending = root_->CreateTemp(absl::StrCat("s/up", i));
    if (!pending.ok()) {
      EXPECT_EQ(pending.status().code(), Code::kPermissionDenied) << pending.status();
      continue;
    }
    TestTree::WriteAll((*pending)->fd(), "payload");
    const absl::Status status = (*pending)->Commit(false);
    if (status.ok()) {
      ++uploads_ok;
    } else {
      EXPECT_TRUE(status.code() == Code::kPermissionDenied || status.code() == Code::kAborted)
          << status;
    }
  }
  stop.store(true);
  swapper.join();

  // Wherever the real directory ended up, it holds exactly the committed uploads, no temps.
  // (lstat, not a listing: listing the symlink would open the outside directory.)
  struct stat st;
  ASSERT_EQ(::lstat(s.c_str(), &st), 0);
  const std::string real = S_ISDIR(st.st_mode) ? s : s_alt;
  Names names = TestTree::ListNames(real);
  EXPECT_EQ(names.size(), static_cast<size_t>(uploads_ok) + 1) << ::testing::PrintToString(names);
  EXPECT_EQ(TestTree::ReadFile(real + "/secret.txt"), "inside");
  ::testing::Test::RecordProperty("swaps", swaps.load());
  ::testing::Test::RecordProperty("reads_ok", reads_ok);
  ::testing::Test::RecordProperty("uploads_ok", uploads_ok);
}

INSTANTIATE_TEST_SUITE_P(AllModes, ConcurrencyTest, ::testing::ValuesIn(AllTestModes()),
                         TestModeName);

}  // namespace
}  // namespace framerpc::file

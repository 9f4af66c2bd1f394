// Attacks with a FIFO (issue 12, item 8), under every TestMode: the service used to open a FIFO
// for reading before it refused it, which released a writer blocked on it. Now a file is opened
// O_PATH, checked to be a regular file, and only then opened for reading. The test is the attack
// that worked: a FIFO whose writer is blocked in open(2); after OpenForRead, Stat, List, Download
// and a checksummed Stat, a non-blocking probe (the writer's wchan in /proc, and an eventfd it
// signals once its open returns) shows the writer still blocked. (Device nodes:
// device_node_attack_test.) Every test ends by checking through inotify that nothing outside the
// root was touched.
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "services/file/file_client.h"
#include "services/file/file_server_fixture.h"
#include "services/file/root_dir.h"
#include "services/file/test_tree.h"

namespace framerpc::file {
namespace {

using Code = absl::StatusCode;

// The content of `path`, or "" if it cannot be read (a thread's /proc entry after it ended).
std::string ReadIfThere(const std::string& path) {
  ScopedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return "";
  char buffer[256];
  const ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
  return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : "";
}

// A thread blocked in open(O_WRONLY) of a FIFO, as a writer waits for a reader. Any reader's open,
// O_NONBLOCK included, releases it: what the service must never do.
class BlockedFifoWriter {
 public:
  explicit BlockedFifoWriter(std::string fifo)
      : fifo_(std::move(fifo)), opened_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    thread_ = std::thread([this] {
      tid_.store(static_cast<int>(::syscall(SYS_gettid)));
      const int fd = ::open(fifo_.c_str(), O_WRONLY | O_CLOEXEC);
      const uint64_t one = 1;
      EXPECT_EQ(::write(opened_.get(), &one, sizeof(one)), 8);
      if (fd >= 0) ::close(fd);
    });
  }
  ~BlockedFifoWriter() {
    Release();
    thread_.join();
  }
  BlockedFifoWriter(const BlockedFifoWriter&) = delete;
  BlockedFifoWriter& operator=(const BlockedFifoWriter&) = delete;

  // Waits until the writer sleeps in the FIFO's open, waiting for a reader.
  bool WaitUntilBlocked() {
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (absl::Now() < deadline) {
      if (Blocked()) return true;
      sched_yield();
    }
    return false;
  }

  // The non-blocking probe: whether the writer still sleeps in the FIFO's open. Its wchan (the
  // kernel's account of where it waits, from /proc) says so; a reader's open wakes it, which
  // makes it runnable (wchan "0") before that open returns, so the probe needs no waiting.
  // And its open has not returned (the eventfd it signals then is not readable).
  bool Blocked() const {
    const int tid = tid_.load();
    if (tid == 0) return false;
    const std::string wchan = ReadIfThere(absl::StrCat("/proc/self/task/", tid, "/wchan"));
    struct pollfd p = {opened_.get(), POLLIN, 0};
    return (wchan == "wait_for_partner" || wchan == "fifo_open") && ::poll(&p, 1, 0) == 0;
  }

  // Opens the FIFO for reading, which releases the writer, and waits until it is.
  bool Release() {
    if (!released_) {
      released_ = true;
      reader_.reset(::open(fifo_.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    }
    struct pollfd p = {opened_.get(), POLLIN, 0};
    return ::poll(&p, 1, 30000) == 1;  // its open returned
  }

 private:
  const std::string fifo_;
  const ScopedFd opened_;  // the writer signals it once its open returns
  std::atomic<int> tid_{0};
  std::thread thread_;
  bool released_ = false;
  ScopedFd reader_;
};

class SpecialFileRootDirTest : public ::testing::TestWithParam<TestMode> {
 protected:
  void TearDown() override { tree_.ExpectOutsideUntouched(); }

  RootDirOptions Options() const {
    RootDirOptions options;
    ApplyTestMode(GetParam(), &options);
    return options;
  }

  TestTree tree_;
};

TEST_P(SpecialFileRootDirTest, FifoWithABlockedWriterIsNeverOpened) {
  ASSERT_EQ(::mkfifo(tree_.InRoot("fifo").c_str(), 0644), 0);
  auto root = RootDir::Open(tree_.root(), Options());
  ASSERT_TRUE(root.ok()) << root.status();
  BlockedFifoWriter writer(tree_.InRoot("fifo"));
  ASSERT_TRUE(writer.WaitUntilBlocked());

  EXPECT_TRUE(HasStatus((*root)->OpenForRead("fifo").status(), Code::kFailedPrecondition,
                        "'fifo' is not a regular file"));
  auto info = (*root)->Stat("fifo");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->type, FileType::kOther);
  EXPECT_TRUE((*root)->List(".").ok());
  EXPECT_TRUE(HasStatus((*root)->List("fifo").status(), Code::kFailedPrecondition));
  EXPECT_TRUE(writer.Blocked()) << "the FIFO was opened: its blocked writer was released";

  EXPECT_TRUE(writer.Release());  // The probe does see a released writer.
  EXPECT_FALSE(writer.Blocked());
}

INSTANTIATE_TEST_SUITE_P(AllModes, SpecialFileRootDirTest, ::testing::ValuesIn(AllTestModes()),
                         TestModeName);

class SpecialFileServiceTest : public ::testing::TestWithParam<TestMode> {
 protected:
  void SetUp() override {
    ASSERT_EQ(::mkfifo(tree_.InRoot("fifo").c_str(), 0644), 0);
    FileServiceOptions options;
    ApplyTestMode(GetParam(), &options.root);
    absl::Status status = server_.Start(tree_.root(), options);
    ASSERT_TRUE(status.ok()) << status;
  }
  void TearDown() override { tree_.ExpectOutsideUntouched(); }

  TestTree tree_;
  FileServer server_;
};

TEST_P(SpecialFileServiceTest, FifoWithABlockedWriterIsNeverOpenedByDownloadOrChecksum) {
  BlockedFifoWriter writer(tree_.InRoot("fifo"));
  ASSERT_TRUE(writer.WaitUntilBlocked());
  {
    ClientContext context;
    DownloadRequest request;
    request.set_path("fifo");
    auto reader = server_.stub()->Download(&context, request);
    DownloadResponse message;
    EXPECT_FALSE(reader->Read(&message));
    EXPECT_TRUE(HasStatus(UnsharedStatus(reader->Finish()), Code::kFailedPrecondition,
                          "'fifo' is not a regular file"));
  }
  {
    ClientContext context;
    StatRequest request;
    request.set_path("fifo");
    request.set_want_sha256(true);
    StatResponse response;
    EXPECT_TRUE(server_.stub()->Stat(&context, request, &response).ok());
    EXPECT_EQ(response.stat().kind(), FILE_KIND_OTHER);
    EXPECT_EQ(response.sha256(), "");
  }
  EXPECT_TRUE(writer.Blocked()) << "the FIFO was opened: its blocked writer was released";
  EXPECT_TRUE(writer.Release());
}

INSTANTIATE_TEST_SUITE_P(AllModes, SpecialFileServiceTest, ::testing::ValuesIn(AllTestModes()),
                         TestModeName);

}  // namespace
}  // namespace framerpc::file

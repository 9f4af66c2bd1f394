// Attacks with special files (issue 12, item 8), under every TestMode: the service used to open a
// FIFO or a device node for reading before it refused it, which released a writer blocked on the
// FIFO and ran the device's open. Now a file is opened O_PATH, checked to be a regular file, and
// only then opened for reading. Each test is the attack that worked:
//   - a FIFO whose writer is blocked in open(2): after OpenForRead, Download and a checksummed
//     Stat, a non-blocking probe (the writer's wchan in /proc, and an eventfd it signals once its
//     open returns) shows the writer still blocked;
//   - a character device: the ptmx node of a devpts instance mounted inside the root, in a mount
//     namespace of the test's own (a child process; nothing touches the host's mount table).
//     Opening ptmx allocates a pty, which inotify on the devpts directory reports (IN_CREATE):
//     no event means the device was never opened.
// Every test ends by checking through inotify that nothing outside the root was touched.
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "services/file/file_client.h"
#include "services/file/file_server_fixture.h"
#include "services/file/mount_namespace_child.h"
#include "services/file/root_dir.h"
#include "services/file/test_tree.h"

namespace framerpc::file {
namespace {

using Code = absl::StatusCode;

constexpr char kNotRegular[] = "is not a regular file";

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

// The names of the inotify events queued on `inotify` (non-blocking).
std::string DrainEvents(int inotify) {
  std::string out;
  alignas(struct inotify_event) char buffer[4096];
  for (ssize_t n; (n = ::read(inotify, buffer, sizeof(buffer))) > 0;) {
    for (ssize_t at = 0; at < n;) {
      const auto* event = reinterpret_cast<const struct inotify_event*>(buffer + at);
      absl::StrAppend(&out, out.empty() ? "" : " ", "mask=", absl::Hex(event->mask), ":",
                      event->len > 0 ? event->name : "");
      at += static_cast<ssize_t>(sizeof(struct inotify_event) + event->len);
    }
  }
  return out;
}

// In the child (its own mount namespace): a devpts instance at `dir`, and an inotify watching it.
// An error text, or "" with *inotify set.
std::string MountDevpts(const std::string& dir, ScopedFd* inotify) {
  if (::mount("devpts", dir.c_str(), "devpts", MS_NOSUID | MS_NOEXEC,
              "newinstance,ptmxmode=0666") != 0) {
    return absl::StrCat("mount devpts: ", strerror(errno));
  }
  inotify->reset(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (::inotify_add_watch(inotify->get(), dir.c_str(), IN_CREATE | IN_DELETE | IN_OPEN) < 0) {
    return absl::StrCat("inotify: ", strerror(errno));
  }
  return "";
}

class SpecialFileRootDirTest : public ::testing::TestWithParam<TestMode> {
 protected:
  void TearDown() override { tree_.ExpectOutsideUntouched(); }

  // Mounts allowed (the read-only default, said explicitly): the devpts instance is a mount in
  // the root, and the rule under test here is the special-file one.
  RootDirOptions Options() const {
    RootDirOptions options;
    options.refuse_hard_links_and_mounts = false;
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

TEST_P(SpecialFileRootDirTest, DeviceNodeIsNeverOpened) {
  TestTree::MakeDir(tree_.InRoot("pts"));
  const RootDirOptions options = Options();
  absl::StatusOr<std::string> report = RunInChildMountNamespace([&]() -> std::string {
    ScopedFd inotify;
    const std::string error = MountDevpts(tree_.InRoot("pts"), &inotify);
    if (!error.empty()) return ReportLine("setup", absl::InternalError(error));
    auto root = RootDir::Open(tree_.root(), options);
    if (!root.ok()) return ReportLine("setup", root.status());
    std::string out = ReportLine("open", (*root)->OpenForRead("pts/ptmx").status());
    absl::StrAppend(&out, ReportLine("list", (*root)->List("pts/ptmx").status()));
    auto info = (*root)->Stat("pts/ptmx");
    absl::StrAppend(&out, ReportLine("stat", info.status()));
    if (info.ok()) absl::StrAppend(&out, "kind: ", static_cast<int>(info->type), "\n");
    absl::StrAppend(&out, "events: ", DrainEvents(inotify.get()), "\n");
    return out;
  });
  ASSERT_TRUE(report.ok()) << report.status();
  SCOPED_TRACE(*report);
  EXPECT_EQ(ReportedFor(*report, "setup"), "");
  EXPECT_EQ(ReportedFor(*report, "open"),
            absl::StrCat("FAILED_PRECONDITION: 'pts/ptmx' ", kNotRegular));
  EXPECT_TRUE(absl::StartsWith(ReportedFor(*report, "list"), "FAILED_PRECONDITION: "));
  EXPECT_EQ(ReportedFor(*report, "stat"), "OK");
  EXPECT_EQ(ReportedFor(*report, "kind"), absl::StrCat(static_cast<int>(FileType::kOther)));
  EXPECT_EQ(ReportedFor(*report, "events"), "") << "the device was opened (a pty was allocated)";
}

// The same device through the RPC service, served from the child.
TEST_P(SpecialFileRootDirTest, DeviceNodeIsNeverOpenedByDownloadOrChecksum) {
  TestTree::MakeDir(tree_.InRoot("pts"));
  FileServiceOptions options;
  options.root = Options();
  absl::StatusOr<std::string> report = RunInChildMountNamespace([&]() -> std::string {
    ScopedFd inotify;
    const std::string error = MountDevpts(tree_.InRoot("pts"), &inotify);
    if (!error.empty()) return ReportLine("setup", absl::InternalError(error));
    FileServer server;
    const absl::Status started = server.Start(tree_.root(), options);
    if (!started.ok()) return ReportLine("setup", started);
    std::string out;
    {
      ClientContext context;
      DownloadRequest request;
      request.set_path("pts/ptmx");
      auto reader = server.stub()->Download(&context, request);
      DownloadResponse message;
      while (reader->Read(&message)) {
      }
      absl::StrAppend(&out, ReportLine("download", UnsharedStatus(reader->Finish())));
    }
    {
      ClientContext context;
      StatRequest request;
      request.set_path("pts/ptmx");
      request.set_want_sha256(true);
      StatResponse response;
      absl::StrAppend(&out, ReportLine("checksum", server.stub()->Stat(&context, request,
                                                                       &response)));
      absl::StrAppend(&out, "sha256 bytes: ", response.sha256().size(), "\n");
    }
    absl::StrAppend(&out, "events: ", DrainEvents(inotify.get()), "\n");
    return out;
  });
  ASSERT_TRUE(report.ok()) << report.status();
  SCOPED_TRACE(*report);
  EXPECT_EQ(ReportedFor(*report, "setup"), "");
  EXPECT_EQ(ReportedFor(*report, "download"),
            absl::StrCat("FAILED_PRECONDITION: 'pts/ptmx' ", kNotRegular));
  // Stat reports a device's kind and hashes nothing: only regular files have a checksum.
  EXPECT_EQ(ReportedFor(*report, "checksum"), "OK");
  EXPECT_EQ(ReportedFor(*report, "sha256 bytes"), "0");
  EXPECT_EQ(ReportedFor(*report, "events"), "") << "the device was opened (a pty was allocated)";
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

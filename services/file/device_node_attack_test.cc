// Attacks with a device node (issue 12, item 8), under every TestMode: the service used to open
// a device for reading before it refused it, which ran the device's open (a block device was
// touched). Now a file is opened O_PATH, checked to be a regular file, and only then opened for
// reading. The device: the ptmx node of a devpts instance mounted inside the root, in a mount
// namespace of the test's own (a forked child, "/" made private first: mount_namespace_child.h;
// nothing touches the host's mount table, and no device node needs mknod, which a user namespace
// such as Bazel's sandbox forbids). Opening ptmx allocates a pty, which inotify on the devpts
// directory reports (IN_CREATE): no event means the device was never opened.
//
// A binary of its own: its tests fork, so its parent process must never have started a thread
// (ThreadSanitizer's runtime starts one of its own after the first).
#include <errno.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mount.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "services/file/file_client.h"
#include "services/file/file_server_fixture.h"
#include "services/file/mount_namespace_child.h"
#include "services/file/root_dir.h"
#include "services/file/test_tree.h"

namespace framerpc::file {
namespace {

constexpr char kNotRegular[] = "is not a regular file";

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

class DeviceNodeTest : public ::testing::TestWithParam<TestMode> {
 protected:
  void SetUp() override { TestTree::MakeDir(tree_.InRoot("pts")); }
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

TEST_P(DeviceNodeTest, DeviceNodeIsNeverOpened) {
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
TEST_P(DeviceNodeTest, DeviceNodeIsNeverOpenedByDownloadOrChecksum) {
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
      absl::StrAppend(&out,
                      ReportLine("checksum", server.stub()->Stat(&context, request, &response)));
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

INSTANTIATE_TEST_SUITE_P(AllModes, DeviceNodeTest, ::testing::ValuesIn(AllTestModes()),
                         TestModeName);

}  // namespace
}  // namespace framerpc::file

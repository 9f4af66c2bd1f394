// Attacks through hard links and mounts (issue 12, item 9), under every TestMode: a hard link
// inside the root to a file outside it, and a bind mount inside the root of a directory (and of
// a file) outside it, both lead out with no symlink and no "..", and both were readable (and the
// mount writable) before RootDirOptions::refuse_hard_links_and_mounts. The mounts are made in a
// mount namespace of the test's own (a forked child whose "/" is private first:
// mount_namespace_child.h), never on the host's mount table; the child reports the statuses, and
// the parent checks them and, through inotify, that nothing outside the root was opened, read,
// created, changed or deleted (the bind mounts show the very inodes the parent watches).
#include <errno.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

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

using Code = absl::StatusCode;

constexpr char kHardLinks[] = "has 2 hard links, and files with more than one are refused";
constexpr char kMount[] = "crosses a mount point, and mount points in the root are refused";

std::string Denied(absl::string_view path, absl::string_view why) {
  return absl::StrCat("PERMISSION_DENIED: path '", path, "' ", why);
}

class LinksAndMountsTest : public ::testing::TestWithParam<TestMode> {
 protected:
  void SetUp() override {
    TestTree::MakeDir(tree_.InRoot("mnt"));
    TestTree::WriteFile(tree_.InRoot("file"), "inside");
    TestTree::Symlink("mnt", tree_.InRoot("via_mnt"));
    ASSERT_EQ(::link((tree_.outside() + "/secret.txt").c_str(), tree_.InRoot("hardlink").c_str()),
              0);
    TestTree::Symlink("hardlink", tree_.InRoot("via_hardlink"));
    tree_.TakeOutsideEvents();  // The link itself (IN_ATTRIB: the link count).
  }
  void TearDown() override { tree_.ExpectOutsideUntouched(); }

  RootDirOptions Options(bool writable) const {
    RootDirOptions options;
    options.writable = writable;
    ApplyTestMode(GetParam(), &options);
    return options;
  }

  // In the child: `outside` bind-mounted at root/mnt, and outside/secret.txt at root/file.
  std::string MountOutsideInTheRoot() const {
    const std::string secret = tree_.outside() + "/secret.txt";
    if (::mount(tree_.outside().c_str(), tree_.InRoot("mnt").c_str(), nullptr, MS_BIND, nullptr) !=
            0 ||
        ::mount(secret.c_str(), tree_.InRoot("file").c_str(), nullptr, MS_BIND, nullptr) != 0) {
      return absl::StrCat("bind mount: ", strerror(errno));
    }
    return "";
  }

  TestTree tree_;
};

TEST_P(LinksAndMountsTest, OnByDefaultForAWritableRootOnlyAndSettable) {
  auto writable = RootDir::Open(tree_.root(), Options(true));
  ASSERT_TRUE(writable.ok()) << writable.status();
  EXPECT_TRUE((*writable)->refuses_hard_links_and_mounts());
  auto read_only = RootDir::Open(tree_.root(), Options(false));
  ASSERT_TRUE(read_only.ok()) << read_only.status();
  EXPECT_FALSE((*read_only)->refuses_hard_links_and_mounts());
  RootDirOptions off = Options(true);
  off.refuse_hard_links_and_mounts = false;
  EXPECT_FALSE((*RootDir::Open(tree_.root(), off))->refuses_hard_links_and_mounts());
  RootDirOptions on = Options(false);
  on.refuse_hard_links_and_mounts = true;
  auto strict = RootDir::Open(tree_.root(), on);
  ASSERT_TRUE(strict.ok()) << strict.status();
  EXPECT_TRUE(
      HasStatus((*strict)->OpenForRead("hardlink").status(), Code::kPermissionDenied, kHardLinks));
}

// The attack that worked: outside/secret.txt read through a hard link in the root.
TEST_P(LinksAndMountsTest, HardLinkToAFileOutsideTheRootIsRefused) {
  auto root = RootDir::Open(tree_.root(), Options(true));
  ASSERT_TRUE(root.ok()) << root.status();
  for (const char* path : {"hardlink", "via_hardlink"}) {
    SCOPED_TRACE(path);
    EXPECT_TRUE(
        HasStatus((*root)->OpenForRead(path).status(), Code::kPermissionDenied, kHardLinks));
    EXPECT_TRUE(HasStatus((*root)->Stat(path).status(), Code::kPermissionDenied, kHardLinks));
  }
  EXPECT_TRUE((*root)->List(".").ok());  // Listed (lstat only), never opened.
  EXPECT_EQ(TestTree::ReadFile(tree_.InRoot("file")), "inside");
  EXPECT_TRUE((*root)->OpenForRead("file").ok());  // One link: an ordinary file.
}

// The attack that worked: a bind mount of a directory outside, and of a file outside, inside the
// root: read, listed, written into and deleted from through the root.
TEST_P(LinksAndMountsTest, BindMountsInsideTheRootAreRefused) {
  const RootDirOptions options = Options(true);
  absl::StatusOr<std::string> report = RunInChildMountNamespace([&]() -> std::string {
    const std::string error = MountOutsideInTheRoot();
    if (!error.empty()) return ReportLine("setup", absl::InternalError(error));
    auto root = RootDir::Open(tree_.root(), options);
    if (!root.ok()) return ReportLine("setup", root.status());
    std::string out;
    absl::StrAppend(&out, ReportLine("read", (*root)->OpenForRead("mnt/secret.txt").status()));
    absl::StrAppend(&out, ReportLine("read file", (*root)->OpenForRead("file").status()));
    absl::StrAppend(&out,
                    ReportLine("read via", (*root)->OpenForRead("via_mnt/secret.txt").status()));
    absl::StrAppend(&out, ReportLine("stat", (*root)->Stat("mnt/secret.txt").status()));
    absl::StrAppend(&out, ReportLine("stat mnt", (*root)->Stat("mnt").status()));
    absl::StrAppend(&out, ReportLine("list", (*root)->List("mnt").status()));
    auto pending = (*root)->CreateTemp("mnt/new.txt");
    if (pending.ok()) {
      TestTree::WriteAll((*pending)->fd(), "planted");
      absl::StrAppend(&out, ReportLine("upload", (*pending)->Commit(false)));
    } else {
      absl::StrAppend(&out, ReportLine("upload", pending.status()));
    }
    absl::StrAppend(&out, ReportLine("mkdir", (*root)->MakeDirectory("mnt/d")));
    absl::StrAppend(&out, ReportLine("remove", (*root)->Remove("mnt/secret.txt")));
    return out;
  });
  ASSERT_TRUE(report.ok()) << report.status();
  SCOPED_TRACE(*report);
  EXPECT_EQ(ReportedFor(*report, "setup"), "");
  EXPECT_EQ(ReportedFor(*report, "read"), Denied("mnt/secret.txt", kMount));
  EXPECT_EQ(ReportedFor(*report, "read file"), Denied("file", kMount));
  EXPECT_EQ(ReportedFor(*report, "read via"), Denied("via_mnt/secret.txt", kMount));
  EXPECT_EQ(ReportedFor(*report, "stat"), Denied("mnt/secret.txt", kMount));
  EXPECT_EQ(ReportedFor(*report, "stat mnt"), Denied("mnt", kMount));
  EXPECT_EQ(ReportedFor(*report, "list"), Denied("mnt", kMount));
  EXPECT_EQ(ReportedFor(*report, "upload"), Denied("mnt", kMount));
  EXPECT_EQ(ReportedFor(*report, "mkdir"), Denied("mnt", kMount));
  EXPECT_EQ(ReportedFor(*report, "remove"), Denied("mnt", kMount));
  // TearDown: nothing outside was opened, read, created, changed or deleted.
}

// Both, through the RPC service (served from the child, where the mount is).
TEST_P(LinksAndMountsTest, HardLinksAndMountsAreRefusedThroughTheService) {
  FileServiceOptions options;
  options.root = Options(true);
  options.write_access = auth::AccessPolicy::Open();  // a test server on loopback
  absl::StatusOr<std::string> report = RunInChildMountNamespace([&]() -> std::string {
    const std::string error = MountOutsideInTheRoot();
    if (!error.empty()) return ReportLine("setup", absl::InternalError(error));
    FileServer server;
    const absl::Status started = server.Start(tree_.root(), options);
    if (!started.ok()) return ReportLine("setup", started);
    std::string out;
    for (const char* path : {"hardlink", "mnt/secret.txt", "file"}) {
      ClientContext download_context;
      DownloadRequest download;
      download.set_path(path);
      auto reader = server.stub()->Download(&download_context, download);
      DownloadResponse message;
      while (reader->Read(&message)) {
      }
      absl::StrAppend(
          &out, ReportLine(absl::StrCat("download ", path), UnsharedStatus(reader->Finish())));
      ClientContext stat_context;
      StatRequest stat;
      stat.set_path(path);
      stat.set_want_sha256(true);
      StatResponse response;
      absl::StrAppend(&out, ReportLine(absl::StrCat("checksum ", path),
                                       server.stub()->Stat(&stat_context, stat, &response)));
    }
    ClientContext upload_context;
    UploadResponse response;
    auto writer = server.stub()->Upload(&upload_context, &response);
    UploadRequest header;
    header.mutable_header()->set_path("mnt/new.txt");
    header.mutable_header()->set_size(7);
    if (writer->Write(header) && writer->Write(UploadRequest(), "planted")) writer->WritesDone();
    absl::StrAppend(&out, ReportLine("upload", UnsharedStatus(writer->Finish())));
    return out;
  });
  ASSERT_TRUE(report.ok()) << report.status();
  SCOPED_TRACE(*report);
  EXPECT_EQ(ReportedFor(*report, "setup"), "");
  const std::string hard_link = absl::StrCat("PERMISSION_DENIED: 'hardlink' ", kHardLinks);
  EXPECT_TRUE(absl::StartsWith(ReportedFor(*report, "download hardlink"), hard_link));
  EXPECT_TRUE(absl::StartsWith(ReportedFor(*report, "checksum hardlink"), hard_link));
  for (const char* path : {"mnt/secret.txt", "file"}) {
    SCOPED_TRACE(path);
    EXPECT_EQ(ReportedFor(*report, absl::StrCat("download ", path)), Denied(path, kMount));
    EXPECT_EQ(ReportedFor(*report, absl::StrCat("checksum ", path)), Denied(path, kMount));
  }
  EXPECT_EQ(ReportedFor(*report, "upload"), Denied("mnt", kMount));
}

INSTANTIATE_TEST_SUITE_P(AllModes, LinksAndMountsTest, ::testing::ValuesIn(AllTestModes()),
                         TestModeName);

}  // namespace
}  // namespace framerpc::file

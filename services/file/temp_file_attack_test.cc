// Attacks on uploads in progress (issue 12, item 7), under every TestMode. Where O_TMPFILE cannot
// be used (the NoProc modes), an upload is staged in a named hidden file (".frpc-upload-*") in
// the target's directory. Each test is an attack that worked on the code before the fix: list,
// stat, download, delete or overwrite that file through the service while the victim's upload
// runs; write into the staged file behind the service's back; swap another file in under the
// temp name; reach the temp file through a symlink planted by a local user. Every test ends by
// checking through inotify that nothing outside the root was touched.
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "base/status_macros.h"
#include "services/file/file_client.h"
#include "services/file/file_server_fixture.h"
#include "services/file/root_dir.h"
#include "services/file/sha256.h"
#include "services/file/temp_name.h"
#include "services/file/test_tree.h"

namespace framerpc::file {
namespace {

using Code = absl::StatusCode;
using Names = std::vector<std::string>;

constexpr char kReserved[] = "reserved for uploads in progress";
// A temp name for the modes where the upload's file has none (O_TMPFILE): the rules must not
// depend on whether the name exists.
constexpr char kMadeUpTempName[] = ".frpc-upload-0123456789abcdef";

absl::Time Soon() { return absl::Now() + absl::Seconds(30); }

// The temp files in `dir` (named by kTempNamePrefix).
Names TempNamesIn(const std::string& dir) {
  Names temps;
  for (const std::string& name : TestTree::ListNames(dir)) {
    if (absl::StartsWith(name, kTempNamePrefix)) temps.push_back(name);
  }
  return temps;
}

// The name of the one upload in progress in `dir` when it has one, else kMadeUpTempName.
std::string TempNameOrMadeUp(const std::string& dir) {
  const Names temps = TempNamesIn(dir);
  EXPECT_LE(temps.size(), 1u);
  return temps.empty() ? kMadeUpTempName : temps[0];
}

// Opens, for writing, the file this process holds open under `dir` for an upload: a named temp
// file, or an O_TMPFILE one ("<dir>/#<ino> (deleted)"). What a local process with the server's
// privileges can do; the test plays it.
ScopedFd OpenUploadBehindTheServicesBack(const std::string& dir) {
  for (const std::string& fd : TestTree::ListNames("/proc/self/fd")) {
    const std::string link = "/proc/self/fd/" + fd;
    char target[PATH_MAX];
    const ssize_t n = ::readlink(link.c_str(), target, sizeof(target) - 1);
    if (n <= 0) continue;
    const std::string path(target, static_cast<size_t>(n));
    if (absl::StartsWith(path, dir + "/" + kTempNamePrefix) || absl::StartsWith(path, dir + "/#")) {
      return ScopedFd(::open(link.c_str(), O_WRONLY | O_CLOEXEC));
    }
  }
  ADD_FAILURE() << "no upload open under " << dir;
  return ScopedFd();
}

// The victim: an upload to `path` whose data is sent in two parts, the call held open between.
class Upload {
 public:
  Upload(FileService::Stub* stub, const std::string& path, std::string content, bool with_sha256)
      : content_(std::move(content)) {
    writer_ = stub->Upload(&context_, &response_);
    UploadRequest header;
    header.mutable_header()->set_path(path);
    header.mutable_header()->set_size(content_.size());
    if (with_sha256) header.mutable_header()->set_sha256(Sha256::Of(content_));
    EXPECT_TRUE(writer_->Write(header));
  }
  // Sends the first `n` bytes.
  void SendFirst(size_t n) {
    EXPECT_TRUE(writer_->Write(UploadRequest(), content_.substr(0, n)));
    sent_ = n;
  }
  // Sends the rest, half-closes and returns the call's status.
  absl::Status Finish() {
    if (sent_ < content_.size()) {
      EXPECT_TRUE(writer_->Write(UploadRequest(), content_.substr(sent_)));
    }
    EXPECT_TRUE(writer_->WritesDone());
    return UnsharedStatus(writer_->Finish());
  }
  const UploadResponse& response() const { return response_; }

 private:
  const std::string content_;
  ClientContext context_;
  UploadResponse response_;
  std::unique_ptr<ClientWriter<UploadRequest>> writer_;
  size_t sent_ = 0;
};

class TempFileServiceAttackTest : public ::testing::TestWithParam<TestMode> {
 protected:
  static constexpr size_t kSize = size_t{64} << 10;

  void SetUp() override {
    TestTree::MakeDir(tree_.InRoot("u"));
    FileServiceOptions options;
    options.root.writable = true;
    options.write_access = auth::AccessPolicy::Open();  // a test server on loopback
    ApplyTestMode(GetParam(), &options.root);
    absl::Status status = server_.Start(tree_.root(), options);
    ASSERT_TRUE(status.ok()) << status;
  }
  void TearDown() override { tree_.ExpectOutsideUntouched(); }

  FileService::Stub* stub() { return server_.stub(); }

  // Waits until the service has taken `bytes` of the uploads running.
  void WaitForReceived(uint64_t bytes) {
    ASSERT_TRUE(server_.tracker()->WaitFor(
        [bytes](const TransferCounters& c) { return c.bytes_received >= bytes; }, Soon()));
  }

  absl::Status StatPath(const std::string& path, bool want_sha256) {
    ClientContext context;
    StatRequest request;
    request.set_path(path);
    request.set_want_sha256(want_sha256);
    StatResponse response;
    return stub()->Stat(&context, request, &response);
  }

  absl::StatusOr<Names> ListNames(const std::string& path) {
    ClientContext context;
    ListRequest request;
    request.set_path(path);
    ListResponse response;
    FRPC_RETURN_IF_ERROR(stub()->List(&context, request, &response));
    Names names;
    for (const ListEntry& entry : response.entries()) names.push_back(entry.name());
    return names;
  }

  // The status, and in *data whatever data arrived.
  absl::Status DownloadPath(const std::string& path, std::string* data) {
    ClientContext context;
    DownloadRequest request;
    request.set_path(path);
    auto reader = stub()->Download(&context, request);
    DownloadResponse message;
    std::string chunk;
    while (reader->Read(&message, &chunk)) {
      if (!message.has_header() && !message.has_trailer()) *data += chunk;
    }
    return UnsharedStatus(reader->Finish());
  }

  absl::Status UploadBytes(const std::string& path, const std::string& content, bool overwrite) {
    ClientContext context;
    UploadResponse response;
    auto writer = stub()->Upload(&context, &response);
    UploadRequest header;
    header.mutable_header()->set_path(path);
    header.mutable_header()->set_size(content.size());
    header.mutable_header()->set_overwrite(overwrite);
    if (writer->Write(header) && writer->Write(UploadRequest(), content)) writer->WritesDone();
    return UnsharedStatus(writer->Finish());
  }

  absl::Status DeletePath(const std::string& path) {
    ClientContext context;
    DeleteRequest request;
    request.set_path(path);
    DeleteResponse response;
    return stub()->Delete(&context, request, &response);
  }

  absl::Status MakeDirectory(const std::string& path) {
    ClientContext context;
    MakeDirectoryRequest request;
    request.set_path(path);
    MakeDirectoryResponse response;
    return stub()->MakeDirectory(&context, request, &response);
  }

  TestTree tree_;
  FileServer server_;
};

// While the victim's upload runs, its temp file is in no listing, and every call naming it is
// refused without touching it; the upload then commits what the victim sent.
TEST_P(TempFileServiceAttackTest, UploadInProgressCannotBeListedStatedDownloadedOrRemoved) {
  const std::string content = TestContent(kSize, 7);
  Upload victim(stub(), "u/victim.bin", content, /*with_sha256=*/true);
  victim.SendFirst(kSize / 2);
  WaitForReceived(kSize / 2);
  if (!GetParam().proc) {
    ASSERT_EQ(TempNamesIn(tree_.InRoot("u")).size(), 1u);
  }
  const std::string temp = "u/" + TempNameOrMadeUp(tree_.InRoot("u"));

  absl::StatusOr<Names> listed = ListNames("u");
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(*listed, Names{});
  EXPECT_TRUE(HasStatus(StatPath(temp, false), Code::kInvalidArgument, kReserved));
  EXPECT_TRUE(HasStatus(StatPath(temp, true), Code::kInvalidArgument, kReserved));
  std::string data;
  EXPECT_TRUE(HasStatus(DownloadPath(temp, &data), Code::kInvalidArgument, kReserved));
  EXPECT_EQ(data.size(), 0u) << "bytes of the upload in progress were sent";
  EXPECT_TRUE(HasStatus(DeletePath(temp), Code::kInvalidArgument, kReserved));
  EXPECT_TRUE(HasStatus(MakeDirectory(temp), Code::kInvalidArgument, kReserved));
  EXPECT_TRUE(HasStatus(UploadBytes(temp, "x", false), Code::kInvalidArgument, kReserved));

  ASSERT_TRUE(victim.Finish().ok());
  EXPECT_TRUE(TestTree::ReadFile(tree_.InRoot("u/victim.bin")) == content);
  EXPECT_EQ(TestTree::ListNames(tree_.InRoot("u")), Names{"victim.bin"});
}

// The hijack: an overwrite upload onto the victim's temp name used to rename the attacker's file
// over it, and the victim's commit then published the attacker's bytes and answered OK with the
// victim's SHA-256. The victim must fail or commit its own bytes, never OK with foreign content.
TEST_P(TempFileServiceAttackTest, OverwriteUploadOntoTheTempNameDoesNotHijackTheUpload) {
  const std::string content = TestContent(kSize, 8);
  const std::string attacker = "attacker-payload";  // 16 bytes
  Upload victim(stub(), "u/victim.bin", content, /*with_sha256=*/true);
  victim.SendFirst(kSize / 2);
  WaitForReceived(kSize / 2);
  const std::string temp = "u/" + TempNameOrMadeUp(tree_.InRoot("u"));

  EXPECT_TRUE(HasStatus(UploadBytes(temp, attacker, /*overwrite=*/true), Code::kInvalidArgument,
                        kReserved));
  const absl::Status status = victim.Finish();
  const std::string committed = TestTree::ReadFile(tree_.InRoot("u/victim.bin"));
  EXPECT_FALSE(status.ok() && committed != content)
      << "the victim's upload returned OK, but the file holds " << committed.size() << " bytes "
      << (committed == attacker ? "of the attacker's" : "not the victim's");
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(victim.response().sha256(), Sha256::Of(content));
  EXPECT_EQ(TestTree::ListNames(tree_.InRoot("u")), Names{"victim.bin"});
}

// Bytes another process writes into the staged file are caught: the digest is computed over what
// the file holds, read back through the upload's own fd, not over what arrived on the wire.
TEST_P(TempFileServiceAttackTest, BytesWrittenIntoTheStagedFileAreNeverCommittedAsTheClients) {
  uint64_t received = 0;
  for (const bool with_sha256 : {true, false}) {
    SCOPED_TRACE(with_sha256 ? "the client sends its SHA-256" : "the client sends no SHA-256");
    const std::string content = TestContent(kSize, with_sha256 ? 9 : 10);
    const std::string target = with_sha256 ? "u/checked.bin" : "u/unchecked.bin";
    Upload victim(stub(), target, content, with_sha256);
    victim.SendFirst(kSize);
    received += kSize;
    WaitForReceived(received);  // all of it written (below 256 KiB, at once)
    {
      ScopedFd foreign = OpenUploadBehindTheServicesBack(tree_.InRoot("u"));
      ASSERT_TRUE(foreign.valid());
      ASSERT_EQ(::pwrite(foreign.get(), "attacker-payload", 16, 0), 16);
    }
    const absl::Status status = victim.Finish();
    if (with_sha256) {
      EXPECT_TRUE(HasStatus(status, Code::kDataLoss, "nothing was written")) << status;
      EXPECT_EQ(TestTree::ListNames(tree_.InRoot("u")), Names{});
    } else {
      // Nothing to check against: the reply's digest is that of the bytes committed, so the
      // client can see they are not the ones it sent.
      ASSERT_TRUE(status.ok()) << status;
      const std::string committed = TestTree::ReadFile(tree_.InRoot(target));
      EXPECT_EQ(victim.response().sha256(), Sha256::Of(committed));
      EXPECT_NE(victim.response().sha256(), Sha256::Of(content));
      ASSERT_EQ(::unlink(tree_.InRoot(target).c_str()), 0);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllModes, TempFileServiceAttackTest, ::testing::ValuesIn(AllTestModes()),
                         TestModeName);

class TempFileRootDirAttackTest : public ::testing::TestWithParam<TestMode> {
 protected:
  void SetUp() override {
    TestTree::MakeDir(tree_.InRoot("u"));
    RootDirOptions options;
    options.writable = true;
    options.file_mode = 0640;
    ApplyTestMode(GetParam(), &options);
    auto root = RootDir::Open(tree_.root(), options);
    ASSERT_TRUE(root.ok()) << root.status();
    root_ = std::move(root).value();
  }
  void TearDown() override { tree_.ExpectOutsideUntouched(); }

  std::unique_ptr<PendingFile> Stage(const std::string& path, absl::string_view content) {
    auto pending = root_->CreateTemp(path);
    EXPECT_TRUE(pending.ok()) << pending.status();
    if (!pending.ok()) return nullptr;
    TestTree::WriteAll((*pending)->fd(), content);
    return std::move(pending).value();
  }

  TestTree tree_;
  std::unique_ptr<RootDir> root_;
};

TEST_P(TempFileRootDirAttackTest, TempNamesAreReservedInEveryCall) {
  TestTree::WriteFile(tree_.InRoot(std::string("u/") + kMadeUpTempName), "leftover");
  TestTree::WriteFile(tree_.InRoot("u/visible"), "v");
  for (const std::string& path :
       {std::string("u/") + kMadeUpTempName, std::string(kMadeUpTempName) + "/x",
        std::string(".frpc-upload-")}) {
    SCOPED_TRACE(path);
    EXPECT_TRUE(HasStatus(root_->ValidatePath(path), Code::kInvalidArgument, kReserved));
    EXPECT_TRUE(HasStatus(root_->Stat(path).status(), Code::kInvalidArgument, kReserved));
    EXPECT_TRUE(HasStatus(root_->OpenForRead(path).status(), Code::kInvalidArgument, kReserved));
    EXPECT_TRUE(HasStatus(root_->List(path).status(), Code::kInvalidArgument, kReserved));
    EXPECT_TRUE(HasStatus(root_->CreateTemp(path).status(), Code::kInvalidArgument, kReserved));
    EXPECT_TRUE(HasStatus(root_->Remove(path), Code::kInvalidArgument, kReserved));
    EXPECT_TRUE(HasStatus(root_->MakeDirectory(path), Code::kInvalidArgument, kReserved));
  }
  // Names that only resemble one are ordinary names.
  EXPECT_TRUE(root_->ValidatePath("u/frpc-upload-x").ok());
  EXPECT_TRUE(root_->ValidatePath("u/x.frpc-upload-").ok());
  auto listing = root_->List("u");
  ASSERT_TRUE(listing.ok()) << listing.status();
  ASSERT_EQ(listing->entries.size(), 1u);
  EXPECT_EQ(listing->entries[0].name, "visible");
  EXPECT_EQ(TestTree::ReadFile(tree_.InRoot(std::string("u/") + kMadeUpTempName)), "leftover");
}

// A named temp file is created 0600 (O_EXCL), so no other user can open it while it fills; the
// upload's mode is applied at the commit.
TEST_P(TempFileRootDirAttackTest, TempFileIsPrivateUntilCommitted) {
  std::unique_ptr<PendingFile> pending = Stage("u/f.txt", "data");
  ASSERT_NE(pending, nullptr);
  struct stat st;
  ASSERT_EQ(::fstat(pending->fd(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  ASSERT_TRUE(pending->Commit(false).ok());
  ASSERT_EQ(::stat(tree_.InRoot("u/f.txt").c_str(), &st), 0);
  const mode_t mask = ::umask(0);
  ::umask(mask);
  EXPECT_EQ(st.st_mode & 07777, 0640u & ~mask);
}

// A local process renames its own file onto the temp name between the last write and the commit:
// the commit notices that the name no longer holds the upload's file and publishes nothing.
TEST_P(TempFileRootDirAttackTest, FileSwappedInUnderTheTempNameIsNotCommitted) {
  if (GetParam().proc) GTEST_SKIP() << "an O_TMPFILE upload has no name to swap";
  for (const bool overwrite : {false, true}) {
    SCOPED_TRACE(overwrite);
    std::unique_ptr<PendingFile> pending = Stage("u/f.txt", "the client's bytes");
    ASSERT_NE(pending, nullptr);
    const Names temps = TempNamesIn(tree_.InRoot("u"));
    ASSERT_EQ(temps.size(), 1u);
    TestTree::WriteFile(tree_.InRoot("u/theirs"), "attacker-payload");
    TestTree::Rename(tree_.InRoot("u/theirs"), tree_.InRoot("u/" + temps[0]));

    EXPECT_TRUE(HasStatus(pending->Commit(overwrite), Code::kAborted, "was replaced"));
    EXPECT_EQ(TestTree::ListNames(tree_.InRoot("u")), Names{temps[0]});  // not f.txt
    pending.reset();
    ASSERT_EQ(::unlink(tree_.InRoot("u/" + temps[0]).c_str()), 0);
  }
}

// A local user plants a symlink to the temp name: reading through it is refused.
TEST_P(TempFileRootDirAttackTest, SymlinkToAnUploadInProgressIsRefused) {
  if (GetParam().proc) GTEST_SKIP() << "an O_TMPFILE upload has no name to link to";
  std::unique_ptr<PendingFile> pending = Stage("u/f.txt", "secret-in-progress");
  ASSERT_NE(pending, nullptr);
  const Names temps = TempNamesIn(tree_.InRoot("u"));
  ASSERT_EQ(temps.size(), 1u);
  TestTree::Symlink(temps[0], tree_.InRoot("u/peek"));
  EXPECT_TRUE(HasStatus(root_->OpenForRead("u/peek").status(), Code::kFailedPrecondition,
                        "upload in progress"));
  EXPECT_TRUE(
      HasStatus(root_->Stat("u/peek").status(), Code::kFailedPrecondition, "upload in progress"));
  ASSERT_TRUE(pending->Commit(false).ok());
  // Once committed the file is an ordinary one (and the dangling link is just that).
  EXPECT_TRUE(HasStatus(root_->Stat("u/peek").status(), Code::kNotFound));
  EXPECT_TRUE(root_->OpenForRead("u/f.txt").ok());
}

INSTANTIATE_TEST_SUITE_P(AllModes, TempFileRootDirAttackTest, ::testing::ValuesIn(AllTestModes()),
                         TestModeName);

}  // namespace
}  // namespace framerpc::file

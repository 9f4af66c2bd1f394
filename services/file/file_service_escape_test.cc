// The traversal corpus through the RPC service, every method, under every TestMode: malformed
// paths are INVALID_ARGUMENT and symlinks out of the root PERMISSION_DENIED, each with a message
// that says why; a symlink swapped in during a download or an upload changes nothing outside the
// root; and the client writes only to the local path it was given. Every test ends by checking
// through inotify that the canary files outside the root were never read or written.
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "services/file/client_path.h"
#include "services/file/file_client.h"
#include "services/file/file_server_fixture.h"
#include "services/file/sha256.h"
#include "services/file/test_tree.h"

namespace framerpc::file {
namespace {

using Code = absl::StatusCode;
using Names = std::vector<std::string>;

constexpr size_t kChunk = size_t{64} << 10;
constexpr char kEscapes[] = "escapes the root";

absl::Time Soon() { return absl::Now() + absl::Seconds(30); }

class FileServiceEscapeTest : public ::testing::TestWithParam<TestMode> {
 protected:
  void SetUp() override {
    TestTree::MakeDir(tree_.InRoot("a"));
    TestTree::WriteFile(tree_.InRoot("a/file.txt"), "hello");
    TestTree::MakeDir(tree_.InRoot("u"));
    TestTree::Symlink(tree_.canary(), tree_.InRoot("link_abs_canary"));
    TestTree::Symlink("../canary", tree_.InRoot("link_rel_canary"));
    TestTree::Symlink("../../canary", tree_.InRoot("a/link_up_canary"));
    TestTree::Symlink("../outside", tree_.InRoot("link_out_dir"));
    TestTree::Symlink("..", tree_.InRoot("link_parent"));
    FileServiceOptions options;
    options.root.writable = true;
    options.write_access = auth::AccessPolicy::Open();  // a test server on loopback
    ApplyTestMode(GetParam(), &options.root);
    options.chunk_bytes = kChunk;
    absl::Status status = server_.Start(tree_.root(), options);
    ASSERT_TRUE(status.ok()) << status;
  }
  void TearDown() override { tree_.ExpectOutsideUntouched(); }

  FileService::Stub* stub() { return server_.stub(); }

  // Each method's status for `path`. With !mutate, only the reading methods run.
  struct Outcomes {
    absl::Status stat, list, download, upload, remove, mkdir;
  };
  Outcomes TryEverything(const std::string& path, bool mutate = true) {
    Outcomes out;
    {
      ClientContext context;
      StatRequest request;
      request.set_path(path);
      request.set_want_sha256(true);
      StatResponse response;
      out.stat = stub()->Stat(&context, request, &response);
    }
    {
      ClientContext context;
      ListRequest request;
      request.set_path(path);
      ListResponse response;
      out.list = stub()->List(&context, request, &response);
    }
    {
      ClientContext context;
      DownloadRequest request;
      request.set_path(path);
      auto reader = stub()->Download(&context, request);
      DownloadResponse message;
      while (reader->Read(&message)) {
      }
      out.download = UnsharedStatus(reader->Finish());
    }
    if (!mutate) return out;
    {
      ClientContext context;
      UploadResponse response;
      auto writer = stub()->Upload(&context, &response);
      UploadRequest header;
      header.mutable_header()->set_path(path);
      header.mutable_header()->set_size(7);
      header.mutable_header()->set_overwrite(true);
      if (writer->Write(header) && writer->Write(UploadRequest(), "payload")) writer->WritesDone();
      out.upload = UnsharedStatus(writer->Finish());
    }
    {
      ClientContext context;
      DeleteRequest request;
      request.set_path(path);
      DeleteResponse response;
      out.remove = stub()->Delete(&context, request, &response);
    }
    {
      ClientContext context;
      MakeDirectoryRequest request;
      request.set_path(path);
      MakeDirectoryResponse response;
      out.mkdir = stub()->MakeDirectory(&context, request, &response);
    }
    return out;
  }

  TestTree tree_;
  FileServer server_;
};

struct Malformed {
  std::string path;
  const char* message_part;
};

TEST_P(FileServiceEscapeTest, MalformedPathsAreInvalidArgumentForEveryMethod) {
  std::string over_path_max;
  while (over_path_max.size() < PATH_MAX) over_path_max += std::string(200, 'x') + "/";
  const std::vector<Malformed> corpus = {
      {"../canary", kEscapes},
      {"..", kEscapes},
      {"a/../../canary", kEscapes},
      {"a/./../../outside/secret.txt", kEscapes},
      {"../root/a/file.txt", kEscapes},
      {"/etc/passwd", "absolute paths are not allowed: '/etc/passwd'"},
      {tree_.canary(), "absolute paths are not allowed"},
      {std::string("a/file.txt\0/../../canary", 24), "contains a NUL byte"},
      {std::string("\0", 1), "contains a NUL byte"},
      {"", "path is empty"},
      {"a//file.txt", "empty component"},
      {"a/" + std::string(NAME_MAX + 1, 'n'), "longer than NAME_MAX"},
      {over_path_max, "longer than PATH_MAX"},
  };
  for (const Malformed& bad : corpus) {
    SCOPED_TRACE(QuotePath(bad.path));
    const Outcomes out = TryEverything(bad.path);
    const Code kInvalid = Code::kInvalidArgument;
    EXPECT_TRUE(HasStatus(out.stat, kInvalid, bad.message_part));
    EXPECT_TRUE(HasStatus(out.list, kInvalid, bad.message_part));
    EXPECT_TRUE(HasStatus(out.download, kInvalid, bad.message_part));
    EXPECT_TRUE(HasStatus(out.upload, kInvalid, bad.message_part));
    EXPECT_TRUE(HasStatus(out.remove, kInvalid, bad.message_part));
    EXPECT_TRUE(HasStatus(out.mkdir, kInvalid, bad.message_part));
  }
  EXPECT_EQ(TestTree::ReadFile(tree_.InRoot("a/file.txt")), "hello");
  EXPECT_EQ(server_.tracker()->Snapshot().bytes_received, 0u);
}

TEST_P(FileServiceEscapeTest, SymlinksOutOfTheRootArePermissionDenied) {
  // A symlink as the last name: reads refuse it. (Upload, Delete and MakeDirectory act on such a
  // link itself, inside the root: root_dir_escape_test.)
  for (const std::string path : {"link_abs_canary", "link_rel_canary", "a/link_up_canary",
                                   "link_out_dir", "link_parent"}) {
    SCOPED_TRACE(path);
    const Outcomes out = TryEverything(path, /*mutate=*/false);
    EXPECT_TRUE(HasStatus(out.stat, Code::kPermissionDenied, kEscapes));
    EXPECT_TRUE(HasStatus(out.list, Code::kPermissionDenied, kEscapes));
    EXPECT_TRUE(HasStatus(out.download, Code::kPermissionDenied, kEscapes));
  }
  for (const std::string path : {"link_out_dir/secret.txt", "link_out_dir/new.txt",
                                  "link_parent/canary", "link_parent/root/a/file.txt"}) {
    SCOPED_TRACE(path);
    const Outcomes out = TryEverything(path);
    const Code kDenied = Code::kPermissionDenied;
    EXPECT_TRUE(HasStatus(out.stat, kDenied, kEscapes));
    EXPECT_TRUE(HasStatus(out.download, kDenied, kEscapes));
    EXPECT_TRUE(HasStatus(out.upload, kDenied, kEscapes));
    EXPECT_TRUE(HasStatus(out.remove, kDenied, kEscapes));
    EXPECT_TRUE(HasStatus(out.mkdir, kDenied, kEscapes));
  }
  EXPECT_EQ(server_.tracker()->Snapshot().bytes_sent, 0u);
}

// The file is swapped for a symlink to the canary while its download is under way: the download
// goes on reading the file it opened, and the next one is refused.
TEST_P(FileServiceEscapeTest, FileSwappedForASymlinkMidDownload) {
  const std::string content = TestContent(40 * kChunk);  // more than the window
  TestTree::WriteFile(tree_.InRoot("a/big"), content);
  ClientContext context;
  DownloadRequest request;
  request.set_path("a/big");
  auto reader = stub()->Download(&context, request);
  DownloadResponse message;
  std::string data, received;
  ASSERT_TRUE(reader->Read(&message) && message.has_header());
  ASSERT_TRUE(reader->Read(&message, &data));
  received += data;

  TestTree::Rename(tree_.InRoot("a/big"), tree_.InRoot("a/big.old"));
  TestTree::Symlink("../../canary", tree_.InRoot("a/big"));
  DownloadTrailer trailer;
  while (reader->Read(&message, &data)) {
    if (message.has_trailer()) trailer = message.trailer();
    else received += data;
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_TRUE(received == content);
  EXPECT_EQ(trailer.sha256(), Sha256::Of(content));

  const Outcomes next = TryEverything("a/big");
  EXPECT_TRUE(HasStatus(next.download, Code::kPermissionDenied, kEscapes));
}

// The download's directory is swapped for a symlink out of the root mid-transfer.
TEST_P(FileServiceEscapeTest, DirectorySwappedForASymlinkMidDownload) {
  const std::string content = TestContent(40 * kChunk, 3);
  TestTree::WriteFile(tree_.InRoot("a/big"), content);
  TestTree::WriteFile(tree_.outside() + "/big", "");  // what the swap would point at
  tree_.TakeOutsideEvents();
  ClientContext context;
  DownloadRequest request;
  request.set_path("a/big");
  auto reader = stub()->Download(&context, request);
  DownloadResponse message;
  std::string data, received;
  ASSERT_TRUE(reader->Read(&message) && message.has_header());
  TestTree::Rename(tree_.InRoot("a"), tree_.InRoot("a_old"));
  TestTree::Symlink("../outside", tree_.InRoot("a"));
  while (reader->Read(&message, &data)) {
    if (!message.has_trailer()) received += data;
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_TRUE(received == content);
  const Outcomes next = TryEverything("a/big");
  EXPECT_TRUE(HasStatus(next.download, Code::kPermissionDenied, kEscapes));
  EXPECT_TRUE(HasStatus(next.upload, Code::kPermissionDenied, kEscapes));
  ASSERT_EQ(::unlink(tree_.InRoot("a").c_str()), 0);
  ASSERT_EQ(::unlink((tree_.outside() + "/big").c_str()), 0);
  tree_.TakeOutsideEvents();
}

// The upload's directory is swapped for a symlink out of the root after the upload started: the
// commit is refused, and nothing lands inside or outside the root.
TEST_P(FileServiceEscapeTest, DirectorySwappedForASymlinkMidUpload) {
  const std::string content = TestContent(4 * kChunk, 9);
  ClientContext context;
  UploadResponse response;
  auto writer = stub()->Upload(&context, &response);
  UploadRequest header;
  header.mutable_header()->set_path("u/up.bin");
  header.mutable_header()->set_size(content.size());
  ASSERT_TRUE(writer->Write(header));
  ASSERT_TRUE(writer->Write(UploadRequest(), content.substr(0, kChunk)));
  ASSERT_TRUE(server_.tracker()->WaitFor(
      [](const TransferCounters& c) { return c.bytes_received >= kChunk; }, Soon()));

  TestTree::Rename(tree_.InRoot("u"), tree_.InRoot("u_old"));
  TestTree::Symlink("../outside", tree_.InRoot("u"));
  ASSERT_TRUE(writer->Write(UploadRequest(), content.substr(kChunk)));
  ASSERT_TRUE(writer->WritesDone());
  EXPECT_TRUE(HasStatus(writer->Finish(), Code::kPermissionDenied, kEscapes));
  ASSERT_TRUE(server_.tracker()->WaitFor([](const TransferCounters& c) { return c.active == 0; },
                                         Soon()));
  EXPECT_EQ(TestTree::ListNames(tree_.InRoot("u_old")), Names{});
}

// Whatever the server is asked for, the client writes to the local path it was given and to no
// other: not through a symlink there, not into a directory there.
TEST_P(FileServiceEscapeTest, ClientWritesOnlyToTheLocalPathGiven) {
  const std::string local_dir = tree_.base() + "/local";
  TestTree::MakeDir(local_dir);
  ClientContext c1;
  ASSERT_TRUE(DownloadFile(stub(), &c1, "a/file.txt", local_dir + "/copy", {}).ok());
  EXPECT_EQ(TestTree::ListNames(local_dir), Names{"copy"});
  EXPECT_EQ(TestTree::ReadFile(local_dir + "/copy"), "hello");

  TestTree::Symlink(tree_.canary(), local_dir + "/to_canary");
  for (bool resume : {false, true}) {
    SCOPED_TRACE(resume);
    DownloadOptions options;
    options.resume = resume;
    ClientContext c2;
    EXPECT_TRUE(HasStatus(
        DownloadFile(stub(), &c2, "a/file.txt", local_dir + "/to_canary", options).status(),
        Code::kFailedPrecondition, "is a symlink"));
    ClientContext c3;
    EXPECT_TRUE(HasStatus(DownloadFile(stub(), &c3, "a/file.txt", local_dir, options).status(),
                          Code::kFailedPrecondition, "is a directory"));
  }
  ClientContext c4;
  EXPECT_TRUE(HasStatus(
      DownloadFile(stub(), &c4, "a/file.txt", local_dir + "/missing_dir/copy", {}).status(),
      Code::kNotFound));
  // A download the server refuses leaves an existing local file alone.
  ClientContext c5;
  EXPECT_TRUE(HasStatus(DownloadFile(stub(), &c5, "a/nothing", local_dir + "/copy", {}).status(),
                        Code::kNotFound));
  EXPECT_EQ(TestTree::ReadFile(local_dir + "/copy"), "hello");
  EXPECT_EQ(TestTree::ListNames(local_dir), (Names{"copy", "to_canary"}));
}

INSTANTIATE_TEST_SUITE_P(AllModes, FileServiceEscapeTest, ::testing::ValuesIn(AllTestModes()),
                         TestModeName);

}  // namespace
}  // namespace framerpc::file

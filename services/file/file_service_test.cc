// FileService end to end over a real server and channel: download and upload sizes around the
// chunk size, resume offsets, a sparse file past 4 GiB, parallel downloads, Stat, List, Delete,
// MakeDirectory, the read-only default, the token, and the exposure rule. Every transfer is
// checked byte for byte and by its checksum: SHA-256 for requests that name no algorithm (as
// every client did before the choice), XXH3-128 for the client library's default.
// checksum_choice_test.cc has the algorithms themselves.
#include <sys/stat.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "services/file/checksum.h"
#include "services/file/file_client.h"
#include "services/file/file_server_fixture.h"
#include "services/file/test_tree.h"

namespace framerpc::file {
namespace {

using Code = absl::StatusCode;

constexpr size_t kChunk = size_t{64} << 10;

// Everything one Download call returned, read with the raw stub.
struct Downloaded {
  absl::Status status;
  bool has_header = false;
  DownloadHeader header;
  std::string data;
  std::vector<size_t> chunk_sizes;
  bool has_trailer = false;
  DownloadTrailer trailer;
};

Downloaded RawDownload(FileService::Stub* stub, const DownloadRequest& request) {
  Downloaded out;
  ClientContext context;
  auto reader = stub->Download(&context, request);
  DownloadResponse message;
  std::string attachment;
  while (reader->Read(&message, &attachment)) {
    if (message.has_header()) {
      EXPECT_FALSE(out.has_header) << "second header";
      out.has_header = true;
      out.header = message.header();
    } else if (message.has_trailer()) {
      out.has_trailer = true;
      out.trailer = message.trailer();
    } else {
      EXPECT_TRUE(out.has_header && !out.has_trailer) << "data outside header..trailer";
      out.chunk_sizes.push_back(attachment.size());
      out.data += attachment;
    }
  }
  out.status = UnsharedStatus(reader->Finish());
  return out;
}

DownloadRequest Request(const std::string& path, uint64_t offset = 0) {
  DownloadRequest request;
  request.set_path(path);
  request.set_offset(offset);
  return request;
}

class FileServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(Options()); }

  FileServiceOptions Options(bool writable = true) {
    FileServiceOptions options;
    options.root.writable = writable;
    options.write_access = auth::AccessPolicy::Open();  // a test server on loopback
    options.chunk_bytes = kChunk;
    return options;
  }
  void Start(FileServiceOptions options) {
    server_ = std::make_unique<FileServer>();
    absl::Status status = server_->Start(tree_.root(), std::move(options));
    ASSERT_TRUE(status.ok()) << status;
  }
  std::string Local(const std::string& name) { return absl::StrCat(tree_.base(), "/", name); }
  FileService::Stub* stub() { return server_->stub(); }

  TestTree tree_;
  std::unique_ptr<FileServer> server_;
};

TEST_F(FileServiceTest, DownloadSizesAroundTheChunkSize) {
  for (size_t size : {size_t{0}, size_t{1}, kChunk - 1, kChunk, kChunk + 1, 3 * kChunk + 17}) {
    SCOPED_TRACE(size);
    const std::string content = TestContent(size, static_cast<uint32_t>(size));
    TestTree::WriteFile(tree_.InRoot("f.bin"), content);

    Downloaded got = RawDownload(stub(), Request("f.bin"));
    ASSERT_TRUE(got.status.ok()) << got.status;
    ASSERT_TRUE(got.has_header && got.has_trailer);
    EXPECT_EQ(got.header.stat().size(), size);
    EXPECT_EQ(got.header.stat().kind(), FILE_KIND_REGULAR);
    EXPECT_EQ(got.header.length(), size);
    EXPECT_EQ(got.header.chunk_bytes(), kChunk);
    EXPECT_EQ(got.chunk_sizes.size(), (size + kChunk - 1) / kChunk);
    for (size_t chunk : got.chunk_sizes) EXPECT_TRUE(chunk >= 1 && chunk <= kChunk) << chunk;
    EXPECT_TRUE(got.data == content);
    EXPECT_EQ(got.trailer.sha256(), Sha256::Of(content));
    EXPECT_TRUE(got.trailer.file_sha256().empty());

    // The client library, into a local file.
    ClientContext context;
    auto result = DownloadFile(stub(), &context, "f.bin", Local("out.bin"), {});
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->file_size, size);
    EXPECT_EQ(result->received, size);
    EXPECT_EQ(result->algorithm, HashAlgorithm::kXxh128);
    EXPECT_EQ(result->digest, Xxh128::Of(content));
    EXPECT_TRUE(TestTree::ReadFile(Local("out.bin")) == content);
  }
}

// From 256 KiB on the server writes uploads with O_DIRECT in 1 MiB blocks (DirectWriter), so the
// sizes around 1 MiB cover its whole blocks and its tails.
TEST_F(FileServiceTest, UploadSizesAroundTheChunkSize) {
  constexpr size_t kMiB = size_t{1} << 20;
  for (size_t size : {size_t{0}, size_t{1}, kChunk - 1, kChunk, kChunk + 1, 3 * kChunk + 17,
                      kMiB - 1, kMiB, kMiB + 1, 2 * kMiB + 17}) {
    SCOPED_TRACE(size);
    const std::string content = TestContent(size, static_cast<uint32_t>(size) + 7);
    TestTree::WriteFile(Local("in.bin"), content);
    ClientContext context;
    UploadOptions options;
    options.chunk_bytes = kChunk;
    options.overwrite = true;
    auto result = UploadFile(stub(), &context, Local("in.bin"), "up.bin", options);
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->size, size);
    EXPECT_EQ(result->algorithm, HashAlgorithm::kXxh128);
    EXPECT_EQ(result->digest, Xxh128::Of(content));
    EXPECT_TRUE(TestTree::ReadFile(tree_.InRoot("up.bin")) == content);
    EXPECT_EQ(TestTree::ListNames(tree_.root()), std::vector<std::string>{"up.bin"});
  }
}

TEST_F(FileServiceTest, ResumeOffsets) {
  const std::string content = TestContent(2 * kChunk + 5);
  const uint64_t size = content.size();
  TestTree::WriteFile(tree_.InRoot("f.bin"), content);

  Downloaded from_zero = RawDownload(stub(), Request("f.bin", 0));
  ASSERT_TRUE(from_zero.status.ok()) << from_zero.status;
  EXPECT_TRUE(from_zero.data == content);

  Downloaded middle = RawDownload(stub(), Request("f.bin", kChunk + 3));
  ASSERT_TRUE(middle.status.ok()) << middle.status;
  EXPECT_EQ(middle.header.offset(), kChunk + 3);
  EXPECT_EQ(middle.header.length(), size - kChunk - 3);
  EXPECT_TRUE(middle.data == content.substr(kChunk + 3));
  EXPECT_EQ(middle.trailer.sha256(), Sha256::Of(content.substr(kChunk + 3)));

  // At the size: a download that had finished. Header, no data, the checksum of nothing.
  Downloaded at_end = RawDownload(stub(), Request("f.bin", size));
  ASSERT_TRUE(at_end.status.ok()) << at_end.status;
  EXPECT_EQ(at_end.header.stat().size(), size);
  EXPECT_EQ(at_end.header.length(), 0u);
  EXPECT_TRUE(at_end.chunk_sizes.empty());
  EXPECT_EQ(at_end.trailer.sha256(), Sha256::Of(""));

  Downloaded beyond = RawDownload(stub(), Request("f.bin", size + 1));
  EXPECT_TRUE(HasStatus(beyond.status, Code::kOutOfRange,
                        absl::StrCat("offset ", size + 1, " is beyond the end of 'f.bin' (", size,
                                     " bytes)")));
  EXPECT_FALSE(beyond.has_header);

  // A range, and the whole-file checksum a resuming client asks for.
  DownloadRequest range = Request("f.bin", 10);
  range.set_length(kChunk);
  range.set_sha256_from_start(true);
  Downloaded ranged = RawDownload(stub(), range);
  ASSERT_TRUE(ranged.status.ok()) << ranged.status;
  EXPECT_TRUE(ranged.data == content.substr(10, kChunk));
  EXPECT_EQ(ranged.trailer.sha256(), Sha256::Of(content.substr(10, kChunk)));
  EXPECT_EQ(ranged.trailer.file_sha256(), Sha256::Of(content.substr(0, 10 + kChunk)));
}

TEST_F(FileServiceTest, ClientResumesAPartialDownload) {
  const std::string content = TestContent(3 * kChunk + 1);
  TestTree::WriteFile(tree_.InRoot("f.bin"), content);
  for (const HashAlgorithm algorithm : {HashAlgorithm::kXxh128, HashAlgorithm::kSha256})
    for (size_t have : {size_t{0}, size_t{1}, kChunk, content.size()}) {
      SCOPED_TRACE(have);
      SCOPED_TRACE(AlgorithmName(algorithm));
      TestTree::WriteFile(Local("part.bin"), content.substr(0, have));
      std::vector<uint64_t> progress;
      DownloadOptions options;
      options.resume = true;
      options.checksum = algorithm;
      options.progress = [&](uint64_t done, uint64_t total) {
        EXPECT_EQ(total, content.size());
        progress.push_back(done);
      };
      ClientContext context;
      auto result = DownloadFile(stub(), &context, "f.bin", Local("part.bin"), options);
      ASSERT_TRUE(result.ok()) << result.status();
      EXPECT_EQ(result->offset, have);
      EXPECT_EQ(result->received, content.size() - have);
      EXPECT_EQ(result->algorithm, algorithm);
      EXPECT_EQ(result->digest, Hasher::Of(algorithm, content));
      EXPECT_TRUE(TestTree::ReadFile(Local("part.bin")) == content);
      ASSERT_FALSE(progress.empty());
      EXPECT_EQ(progress.front(), have);
      EXPECT_EQ(progress.back(), content.size());
    }
}

TEST_F(FileServiceTest, ResumeOntoADifferentPrefixIsDataLossAndLeavesThePrefix) {
  const std::string content = TestContent(2 * kChunk);
  TestTree::WriteFile(tree_.InRoot("f.bin"), content);
  std::string wrong = content.substr(0, 100);
  wrong[50] ^= 1;
  TestTree::WriteFile(Local("part.bin"), wrong);
  DownloadOptions options;
  options.resume = true;
  ClientContext context;
  auto result = DownloadFile(stub(), &context, "f.bin", Local("part.bin"), options);
  EXPECT_TRUE(HasStatus(result.status(), Code::kDataLoss, "differs from the server's file"));
  EXPECT_EQ(TestTree::ReadFile(Local("part.bin")), wrong);
}

TEST_F(FileServiceTest, ResumeBeyondTheServersFileIsOutOfRange) {
  TestTree::WriteFile(tree_.InRoot("f.bin"), "short");
  TestTree::WriteFile(Local("part.bin"), "longer than the file");
  DownloadOptions options;
  options.resume = true;
  ClientContext context;
  auto result = DownloadFile(stub(), &context, "f.bin", Local("part.bin"), options);
  EXPECT_TRUE(HasStatus(result.status(), Code::kOutOfRange, "beyond the end"));
  EXPECT_EQ(TestTree::ReadFile(Local("part.bin")), "longer than the file");
}

// 64-bit sizes and offsets without moving gigabytes: a 5 GiB sparse file, read near its end and
// across the 4 GiB boundary.
TEST_F(FileServiceTest, SparseFileBeyondFourGiB) {
  constexpr uint64_t kSize = uint64_t{5} << 30;
  constexpr uint64_t kFourGiB = uint64_t{4} << 30;
  const std::string tail = TestContent(1000, 5);
  const std::string boundary = TestContent(64, 4);
  ASSERT_TRUE(MakeSparseFile(tree_.InRoot("big.img"), kSize, kSize - tail.size(), tail).ok());
  ASSERT_TRUE(MakeSparseFile(tree_.InRoot("big4.img"), kSize, kFourGiB - 32, boundary).ok());

  ClientContext stat_context;
  StatRequest stat_request;
  stat_request.set_path("big.img");
  StatResponse stat;
  ASSERT_TRUE(stub()->Stat(&stat_context, stat_request, &stat).ok());
  EXPECT_EQ(stat.stat().size(), kSize);

  const uint64_t offset = kSize - kChunk - 123;
  Downloaded end = RawDownload(stub(), Request("big.img", offset));
  ASSERT_TRUE(end.status.ok()) << end.status;
  EXPECT_EQ(end.header.stat().size(), kSize);
  EXPECT_EQ(end.header.offset(), offset);
  const std::string expected = std::string(kChunk + 123 - tail.size(), '\0') + tail;
  EXPECT_TRUE(end.data == expected);
  EXPECT_EQ(end.trailer.sha256(), Sha256::Of(expected));

  DownloadRequest across = Request("big4.img", kFourGiB - 100);
  across.set_length(200);
  Downloaded mid = RawDownload(stub(), across);
  ASSERT_TRUE(mid.status.ok()) << mid.status;
  const std::string expected_mid = std::string(68, '\0') + boundary + std::string(68, '\0');
  EXPECT_TRUE(mid.data == expected_mid);
  EXPECT_EQ(mid.trailer.sha256(), Sha256::Of(expected_mid));

  // The last bytes: a resume of a download that got all but 10 of them.
  Downloaded last = RawDownload(stub(), Request("big.img", kSize - 10));
  ASSERT_TRUE(last.status.ok()) << last.status;
  EXPECT_EQ(last.data, tail.substr(tail.size() - 10));
}

TEST_F(FileServiceTest, SixteenParallelDownloadsOfOneFile) {
  // All from one address: the per-peer cap (4 by default) would refuse some whenever more than
  // four overlap. The overall cap (16) holds them all.
  FileServiceOptions options = Options();
  options.max_transfers_per_peer = 0;
  Start(std::move(options));
  const std::string content = TestContent(5 * kChunk + 3, 16);
  TestTree::WriteFile(tree_.InRoot("shared.bin"), content);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&, i] {
      ClientContext context;
      auto result = DownloadFile(stub(), &context, "shared.bin", Local(absl::StrCat("p", i)), {});
      EXPECT_TRUE(result.ok()) << i << ": " << result.status();
      if (result.ok() && result->digest == Xxh128::Of(content)) ok.fetch_add(1);
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), 16);
  for (int i = 0; i < 16; ++i) {
    EXPECT_TRUE(TestTree::ReadFile(Local(absl::StrCat("p", i))) == content) << i;
  }
  EXPECT_EQ(server_->tracker()->Snapshot().active, 0);
}

TEST_F(FileServiceTest, StatWithChecksumAndList) {
  TestTree::MakeDir(tree_.InRoot("d"));
  const std::string content = TestContent(kChunk * 2 + 9);
  TestTree::WriteFile(tree_.InRoot("d/a.bin"), content);
  TestTree::WriteFile(tree_.InRoot("d/b.txt"), "b");
  TestTree::Symlink("a.bin", tree_.InRoot("d/c.link"));
  TestTree::WriteFile(tree_.InRoot(std::string("d/\xff\xfe")), "not UTF-8");

  StatRequest request;
  request.set_path("d/c.link");
  request.set_want_sha256(true);
  StatResponse response;
  ClientContext context;
  ASSERT_TRUE(stub()->Stat(&context, request, &response).ok());
  EXPECT_EQ(response.stat().kind(), FILE_KIND_REGULAR);
  EXPECT_EQ(response.stat().size(), content.size());
  EXPECT_EQ(response.sha256(), Sha256::Of(content));

  request.set_path("d");
  ClientContext dir_context;
  ASSERT_TRUE(stub()->Stat(&dir_context, request, &response).ok());
  EXPECT_EQ(response.stat().kind(), FILE_KIND_DIRECTORY);
  EXPECT_TRUE(response.sha256().empty());

  ListRequest list;
  list.set_path("d");
  ListResponse page;
  ClientContext list_context;
  ASSERT_TRUE(stub()->List(&list_context, list, &page).ok());
  ASSERT_EQ(page.entries_size(), 4);
  EXPECT_EQ(page.entries(0).name(), "a.bin");
  EXPECT_EQ(page.entries(0).stat().size(), content.size());
  EXPECT_EQ(page.entries(2).name(), "c.link");
  EXPECT_EQ(page.entries(2).stat().kind(), FILE_KIND_SYMLINK);
  EXPECT_EQ(page.entries(3).name(), "");
  EXPECT_EQ(page.entries(3).raw_name(), "\xff\xfe");
  EXPECT_FALSE(page.truncated());
}

TEST_F(FileServiceTest, ListPages) {
  FileServiceOptions options = Options();
  options.root.max_list_entries = 2;
  Start(options);
  for (const char* name : {"e", "a", "d", "b", "c"}) TestTree::WriteFile(tree_.InRoot(name), name);
  std::vector<std::string> names;
  ListRequest request;
  request.set_path(".");
  for (int pages = 1;; ++pages) {
    ListResponse page;
    ClientContext context;
    ASSERT_TRUE(stub()->List(&context, request, &page).ok());
    for (const ListEntry& entry : page.entries()) names.push_back(entry.name());
    if (!page.truncated()) {
      EXPECT_EQ(pages, 3);
      break;
    }
    request.set_start_after(names.back());
  }
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b", "c", "d", "e"}));
}

TEST_F(FileServiceTest, DeleteAndMakeDirectory) {
  ClientContext c1;
  MakeDirectoryRequest mkdir;
  mkdir.set_path("new");
  MakeDirectoryResponse mkdir_response;
  ASSERT_TRUE(stub()->MakeDirectory(&c1, mkdir, &mkdir_response).ok());
  struct stat st;
  ASSERT_EQ(::stat(tree_.InRoot("new").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  ClientContext c2;
  EXPECT_TRUE(HasStatus(stub()->MakeDirectory(&c2, mkdir, &mkdir_response), Code::kAlreadyExists));

  TestTree::WriteFile(tree_.InRoot("new/f"), "x");
  DeleteRequest remove;
  remove.set_path("new");
  DeleteResponse remove_response;
  ClientContext c3;
  EXPECT_TRUE(HasStatus(stub()->Delete(&c3, remove, &remove_response), Code::kFailedPrecondition));
  remove.set_path("new/f");
  ClientContext c4;
  ASSERT_TRUE(stub()->Delete(&c4, remove, &remove_response).ok());
  remove.set_path("new");
  ClientContext c5;
  ASSERT_TRUE(stub()->Delete(&c5, remove, &remove_response).ok());
  EXPECT_EQ(TestTree::ListNames(tree_.root()), std::vector<std::string>{});
  ClientContext c6;
  EXPECT_TRUE(HasStatus(stub()->Delete(&c6, remove, &remove_response), Code::kNotFound));
}

TEST_F(FileServiceTest, ReadOnlyByDefaultRefusesEveryWrite) {
  Start(Options(/*writable=*/false));
  EXPECT_FALSE(FileServiceOptions().root.writable);
  TestTree::WriteFile(tree_.InRoot("keep.txt"), "keep");
  TestTree::WriteFile(Local("in.bin"), "data");
  const char kReadOnly[] = "the file service is read-only";

  ClientContext c1;
  EXPECT_TRUE(HasStatus(UploadFile(stub(), &c1, Local("in.bin"), "new.txt", {}).status(),
                        Code::kPermissionDenied, kReadOnly));
  UploadOptions overwrite;
  overwrite.overwrite = true;
  ClientContext c2;
  EXPECT_TRUE(HasStatus(UploadFile(stub(), &c2, Local("in.bin"), "keep.txt", overwrite).status(),
                        Code::kPermissionDenied, kReadOnly));
  DeleteRequest remove;
  remove.set_path("keep.txt");
  DeleteResponse removed;
  ClientContext c3;
  EXPECT_TRUE(HasStatus(stub()->Delete(&c3, remove, &removed), Code::kPermissionDenied, kReadOnly));
  MakeDirectoryRequest mkdir;
  mkdir.set_path("dir");
  MakeDirectoryResponse made;
  ClientContext c4;
  EXPECT_TRUE(
      HasStatus(stub()->MakeDirectory(&c4, mkdir, &made), Code::kPermissionDenied, kReadOnly));
  EXPECT_EQ(TestTree::ListNames(tree_.root()), std::vector<std::string>{"keep.txt"});
  EXPECT_EQ(TestTree::ReadFile(tree_.InRoot("keep.txt")), "keep");

  // Reads still work.
  Downloaded got = RawDownload(stub(), Request("keep.txt"));
  ASSERT_TRUE(got.status.ok()) << got.status;
  EXPECT_EQ(got.data, "keep");
}

TEST_F(FileServiceTest, TokenIsRequiredOnEveryCallWhenConfigured) {
  const std::string token = "0123456789abcdef-file-token";
  FileServiceOptions options = Options();
  const auth::AccessPolicy token_policy =
      auth::AccessPolicy().AcceptToken(*auth::SharedSecret::FromToken(token));
  options.read_access = token_policy;
  options.write_access = token_policy;
  Start(options);
  TestTree::WriteFile(tree_.InRoot("f.txt"), "f");
  TestTree::WriteFile(Local("in.bin"), "data");

  ClientContext none;
  StatRequest stat;
  stat.set_path("f.txt");
  StatResponse stat_response;
  EXPECT_TRUE(HasStatus(stub()->Stat(&none, stat, &stat_response), Code::kUnauthenticated));
  ClientContext wrong;
  wrong.AddMetadata(auth::kAuthorizationKey, auth::AuthorizationValue("0123456789abcdef-wrong"));
  EXPECT_TRUE(HasStatus(RawDownload(stub(), Request("f.txt")).status, Code::kUnauthenticated));
  EXPECT_TRUE(HasStatus(UploadFile(stub(), &wrong, Local("in.bin"), "up.txt", {}).status(),
                        Code::kUnauthenticated));
  EXPECT_EQ(TestTree::ListNames(tree_.root()), std::vector<std::string>{"f.txt"});

  ClientContext right;
  right.AddMetadata(auth::kAuthorizationKey, auth::AuthorizationValue(token));
  ASSERT_TRUE(UploadFile(stub(), &right, Local("in.bin"), "up.txt", {}).ok());
  ClientContext right2;
  right2.AddMetadata(auth::kAuthorizationKey, auth::AuthorizationValue(token));
  auto downloaded = DownloadFile(stub(), &right2, "up.txt", Local("out.bin"), {});
  ASSERT_TRUE(downloaded.ok()) << downloaded.status();
  EXPECT_EQ(TestTree::ReadFile(Local("out.bin")), "data");
}

TEST(FileServiceExposureTest, OffLoopbackNothingIsOpenUnlessDeclaredPublic) {
  const auth::AccessPolicy token =
      auth::AccessPolicy().AcceptToken(*auth::SharedSecret::FromToken("0123456789abcdef"));
  FileServiceOptions read_only;  // reads open by default
  FileServiceOptions public_files = read_only;
  public_files.files_are_public = true;
  FileServiceOptions read_only_token = read_only;
  read_only_token.read_access = token;
  FileServiceOptions open_writes;
  open_writes.root.writable = true;
  open_writes.read_access = token;
  open_writes.write_access = auth::AccessPolicy::Open();
  FileServiceOptions token_writes = open_writes;
  token_writes.write_access = token;
  FileServiceOptions uid_writes = read_only_token;
  uid_writes.root.writable = true;
  uid_writes.write_access = auth::AccessPolicy().AcceptUnixUids({0});
  const std::vector<std::string> local = {"127.0.0.1:7000", "[::1]:7000", "unix:/tmp/f.sock",
                                          "unix:@abstract"};
  for (const FileServiceOptions* options :
       {&read_only, &public_files, &read_only_token, &open_writes, &token_writes, &uid_writes}) {
    EXPECT_TRUE(CheckFileServiceExposure(*options, local).ok());
  }
  for (const std::string address : {"0.0.0.0:7000", "192.168.1.10:7000", "[::]:7000"}) {
    SCOPED_TRACE(address);
    std::vector<std::string> addresses = local;
    addresses.push_back(address);
    EXPECT_TRUE(HasStatus(CheckFileServiceExposure(read_only, addresses),
                          Code::kFailedPrecondition,
                          absl::StrCat("the file service on ", address,
                                       ", which is not a loopback or Unix-socket address, would "
                                       "let anyone read the files")));
    EXPECT_TRUE(CheckFileServiceExposure(public_files, addresses).ok());
    EXPECT_TRUE(CheckFileServiceExposure(read_only_token, addresses).ok());
    EXPECT_TRUE(HasStatus(CheckFileServiceExposure(open_writes, addresses),
                          Code::kFailedPrecondition,
                          absl::StrCat("a writable file service on ", address)));
    EXPECT_TRUE(CheckFileServiceExposure(token_writes, addresses).ok());
    // Remote peers have no uid: they can write nothing, which is safe.
    EXPECT_TRUE(CheckFileServiceExposure(uid_writes, addresses).ok());
  }
}

TEST(FileServiceCreateTest, RefusesOptionsOutOfRange) {
  TestTree tree;
  FileServiceOptions options;
  options.chunk_bytes = kMinChunkBytes - 1;
  EXPECT_TRUE(HasStatus(FileServiceImpl::Create(tree.root(), options).status(),
                        Code::kInvalidArgument, "chunk size"));
  options.chunk_bytes = kMaxChunkBytes + 1;
  EXPECT_TRUE(HasStatus(FileServiceImpl::Create(tree.root(), options).status(),
                        Code::kInvalidArgument, "chunk size"));
  options.chunk_bytes = kMaxChunkBytes;
  options.max_transfers = 0;
  EXPECT_TRUE(HasStatus(FileServiceImpl::Create(tree.root(), options).status(),
                        Code::kInvalidArgument, "transfers"));
  options.max_transfers = 1;
  options.max_transfers_per_peer = -1;
  EXPECT_TRUE(HasStatus(FileServiceImpl::Create(tree.root(), options).status(),
                        Code::kInvalidArgument, "transfers per peer must not be negative"));
  options.max_transfers_per_peer = 0;  // no per-peer cap
  EXPECT_TRUE(HasStatus(FileServiceImpl::Create(tree.root() + "/missing", options).status(),
                        Code::kNotFound));
  EXPECT_TRUE(FileServiceImpl::Create(tree.root(), options).ok());
}

}  // namespace
}  // namespace framerpc::file

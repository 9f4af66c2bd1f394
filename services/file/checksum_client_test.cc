// The client library's side of the checksum choice (file_client.h): XXH3-128 by default and
// SHA-256 on request, for downloads and uploads; a digest that does not match is DATA_LOSS naming
// the algorithm and both digests, and the download's file is taken back (the server's digest is
// made wrong through its digest cache, as a damaged transfer would look). Against a server from
// before the choice (a stand-in that knows only the SHA-256 fields): a download falls back to
// SHA-256 and is verified; an upload with SHA-256 is checked by it; an upload with XXH3-128,
// which it cannot check, is reported as FAILED_PRECONDITION. A server that answers in an algorithm
// not asked for is refused: in a download's header (INTERNAL, before the local file is opened),
// in its trailer (INTERNAL), or in an upload's reply (DATA_LOSS).
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "rpc/channel.h"
#include "rpc/server.h"
#include "services/file/checksum.h"
#include "services/file/checksum_proto.h"
#include "services/file/file_client.h"
#include "services/file/file_server_fixture.h"
#include "services/file/test_tree.h"

namespace framerpc::file {
namespace {

using Code = absl::StatusCode;

constexpr size_t kChunk = size_t{64} << 10;

// The file service as it was before the checksum choice, for one file's download and for
// uploads: it knows only the SHA-256 fields (the new ones are unknown fields to it). With
// `echo` set it names that algorithm in the header, the trailer and the upload's reply instead,
// whatever was asked; with `trailer` set, the trailer names that one.
class OldFileService final : public FileService::Service {
 public:
  explicit OldFileService(std::string content) : content_(std::move(content)) {}

  void set_echo(ChecksumAlgorithm echo) { echo_ = echo; }
  void set_trailer(ChecksumAlgorithm trailer) { trailer_ = trailer; }

  absl::Status Download(ServerContext* context, const DownloadRequest& request,
                        ServerWriter<DownloadResponse>* writer) override {
    DownloadResponse header;
    header.mutable_header()->mutable_stat()->set_size(content_.size());
    header.mutable_header()->set_length(content_.size());
    header.mutable_header()->set_chunk_bytes(kChunk);
    header.mutable_header()->set_checksum(echo_);
    if (!writer->Write(header)) return absl::CancelledError("gone");
    for (size_t at = 0; at < content_.size(); at += kChunk) {
      if (!writer->Write(DownloadResponse(), absl::string_view(content_).substr(at, kChunk))) {
        return absl::CancelledError("gone");
      }
    }
    DownloadResponse trailer;
    trailer.mutable_trailer()->set_sha256(Sha256::Of(content_));
    const ChecksumAlgorithm in_trailer = trailer_ != CHECKSUM_UNSPECIFIED ? trailer_ : echo_;
    if (in_trailer != CHECKSUM_UNSPECIFIED) {
      const HashAlgorithm algorithm = *AlgorithmFromProto(in_trailer);
      FillChecksum(algorithm, Hasher::Of(algorithm, content_),
                   trailer.mutable_trailer()->mutable_checksum());
    }
    writer->Write(trailer);
    return absl::OkStatus();
  }

  // Checks the SHA-256 fields only, as the old server did, and answers with its SHA-256.
  absl::Status Upload(ServerContext* context, ServerReader<UploadRequest>* reader,
                      UploadResponse* response) override {
    UploadRequest message;
    std::string data;
    std::string received;
    std::string expected;
    while (reader->Read(&message, &data)) {
      received += data;
      if (!message.sha256().empty()) expected = message.sha256();
    }
    std::lock_guard<std::mutex> lock(mu_);
    uploaded_ = received;
    if (!expected.empty() && expected != Sha256::Of(received)) {
      return absl::DataLossError("has SHA-256 ...");
    }
    response->set_size(received.size());
    response->set_sha256(Sha256::Of(received));
    if (echo_ != CHECKSUM_UNSPECIFIED) {
      const HashAlgorithm algorithm = *AlgorithmFromProto(echo_);
      FillChecksum(algorithm, Hasher::Of(algorithm, received), response->mutable_checksum());
    }
    return absl::OkStatus();
  }

  std::string uploaded() {
    std::lock_guard<std::mutex> lock(mu_);
    return uploaded_;
  }

 private:
  const std::string content_;
  ChecksumAlgorithm echo_ = CHECKSUM_UNSPECIFIED;
  ChecksumAlgorithm trailer_ = CHECKSUM_UNSPECIFIED;
  std::mutex mu_;
  std::string uploaded_;  // guarded by mu_
};

class OldServer {
 public:
  absl::Status Start(OldFileService* service) {
    ServerOptions options;
    options.io_threads = 1;
    options.worker_threads = 2;
    server_ = std::make_unique<Server>(options);
    absl::Status status = server_->AddService(service, ServiceOptions{.run_inline = false});
    if (status.ok()) status = server_->AddListener("127.0.0.1:0");
    if (status.ok()) status = server_->Start();
    if (!status.ok()) return status;
    absl::StatusOr<std::unique_ptr<Channel>> channel = Channel::Create(server_->listen_address(0));
    if (!channel.ok()) return channel.status();
    channel_ = *std::move(channel);
    stub_ = std::make_unique<FileService::Stub>(channel_.get());
    return absl::OkStatus();
  }
  ~OldServer() {
    stub_.reset();
    channel_.reset();
    if (server_) server_->Shutdown(absl::Seconds(5));
  }
  FileService::Stub* stub() { return stub_.get(); }

 private:
  std::unique_ptr<Server> server_;
  std::unique_ptr<Channel> channel_;
  std::unique_ptr<FileService::Stub> stub_;
};

bool Exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

class ChecksumClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FileServiceOptions options;
    options.root.writable = true;
    options.write_access = auth::AccessPolicy::Open();  // a test server on loopback
    options.chunk_bytes = kChunk;
    // Every file counts as old enough for the digest cache.
    options.digest_cache.clock = [] { return absl::Now() + absl::Hours(1); };
    absl::Status status = server_.Start(tree_.root(), std::move(options));
    ASSERT_TRUE(status.ok()) << status;
  }
  std::string Local(const std::string& name) { return absl::StrCat(tree_.base(), "/", name); }

  TestTree tree_;
  FileServer server_;
};

TEST_F(ChecksumClientTest, Xxh3ByDefaultAndSha256OnRequest) {
  const std::string content = TestContent(3 * kChunk + 2);
  TestTree::WriteFile(Local("in.bin"), content);
  for (const bool sha : {false, true}) {
    SCOPED_TRACE(sha);
    const HashAlgorithm algorithm = sha ? HashAlgorithm::kSha256 : HashAlgorithm::kXxh128;
    UploadOptions upload;
    upload.overwrite = true;
    if (sha) upload.checksum = HashAlgorithm::kSha256;
    ClientContext upload_context;
    auto sent = UploadFile(server_.stub(), &upload_context, Local("in.bin"), "up.bin", upload);
    ASSERT_TRUE(sent.ok()) << sent.status();
    EXPECT_EQ(sent->algorithm, algorithm);
    EXPECT_EQ(sent->digest, Hasher::Of(algorithm, content));

    DownloadOptions download;
    if (sha) download.checksum = HashAlgorithm::kSha256;
    ClientContext download_context;
    auto got =
        DownloadFile(server_.stub(), &download_context, "up.bin", Local("out.bin"), download);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->algorithm, algorithm);
    EXPECT_EQ(got->digest, Hasher::Of(algorithm, content));
    EXPECT_TRUE(TestTree::ReadFile(Local("out.bin")) == content);
  }
}

// The server's digest is made wrong (its cache holds another digest for the file's version): the
// client sees data that does not match, in either algorithm, and takes its file back.
TEST_F(ChecksumClientTest, ADownloadThatDoesNotMatchIsDataLossInEitherAlgorithm) {
  const std::string content = TestContent(2 * kChunk + 3, 2);
  const std::string path = tree_.InRoot("f.bin");
  TestTree::WriteFile(path, content);
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  DigestCache* cache = server_.service()->digest_cache();
  for (const HashAlgorithm algorithm : {HashAlgorithm::kXxh128, HashAlgorithm::kSha256}) {
    SCOPED_TRACE(AlgorithmName(algorithm));
    const std::string wrong = Hasher::Of(algorithm, "not the content");
    ASSERT_TRUE(cache->Store(FileVersion::Of(st), algorithm, wrong, cache->Now()));
    DownloadOptions options;
    options.checksum = algorithm;
    ClientContext context;
    auto got = DownloadFile(server_.stub(), &context, "f.bin", Local("out.bin"), options);
    EXPECT_TRUE(HasStatus(
        got.status(), Code::kDataLoss,
        absl::StrCat("the data received has ", AlgorithmName(algorithm), " ",
                     DigestToHex(Hasher::Of(algorithm, content)), ", but the server sent ",
                     DigestToHex(wrong), ": it was damaged on the way")))
        << got.status();
    EXPECT_FALSE(Exists(Local("out.bin")));  // created by the download, so removed
  }
}

TEST_F(ChecksumClientTest, AServerFromBeforeTheChoiceIsVerifiedBySha256) {
  const std::string content = TestContent(2 * kChunk + 1, 3);
  OldFileService old(content);
  OldServer server;
  ASSERT_TRUE(server.Start(&old).ok());
  ClientContext context;
  auto got = DownloadFile(server.stub(), &context, "f.bin", Local("out.bin"), {});
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->algorithm, HashAlgorithm::kSha256);  // asked for XXH3-128; verified by SHA-256
  EXPECT_EQ(got->digest, Sha256::Of(content));
  EXPECT_TRUE(TestTree::ReadFile(Local("out.bin")) == content);
}

TEST_F(ChecksumClientTest, UploadsToAServerFromBeforeTheChoice) {
  OldFileService old("");
  OldServer server;
  ASSERT_TRUE(server.Start(&old).ok());
  const std::string content = TestContent(kChunk + 5, 4);
  TestTree::WriteFile(Local("in.bin"), content);

  // SHA-256 travels in the field it checks: verified as before.
  UploadOptions options;
  options.checksum = HashAlgorithm::kSha256;
  ClientContext sha_context;
  auto sent = UploadFile(server.stub(), &sha_context, Local("in.bin"), "up.bin", options);
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_EQ(sent->digest, Sha256::Of(content));

  // XXH3-128 it ignores: the client says the upload was not checked.
  ClientContext xxh_context;
  auto unchecked = UploadFile(server.stub(), &xxh_context, Local("in.bin"), "up.bin", {});
  EXPECT_TRUE(HasStatus(unchecked.status(), Code::kFailedPrecondition,
                        absl::StrCat("the server committed the upload without checking its "
                                     "XXH3-128 (it predates the checksum choice); it reports "
                                     "SHA-256 ",
                                     DigestToHex(Sha256::Of(content)))))
      << unchecked.status();
  EXPECT_TRUE(old.uploaded() == content);
}

TEST_F(ChecksumClientTest, AServerAnsweringInAnotherAlgorithmIsRefused) {
  const std::string content = TestContent(kChunk, 5);
  OldFileService other(content);
  other.set_echo(CHECKSUM_SHA256);
  OldServer server;
  ASSERT_TRUE(server.Start(&other).ok());
  ClientContext context;
  auto got = DownloadFile(server.stub(), &context, "f.bin", Local("out.bin"), {});
  EXPECT_TRUE(HasStatus(got.status(), Code::kInternal,
                        "the server answered with checksum algorithm 1, not the XXH3-128 asked "
                        "for"))
      << got.status();
  EXPECT_FALSE(Exists(Local("out.bin")));  // refused before the local file was opened
}

TEST_F(ChecksumClientTest, ATrailerOrReplyInAnotherAlgorithmIsRefused) {
  const std::string content = TestContent(kChunk + 1, 6);
  OldFileService other(content);
  other.set_echo(CHECKSUM_XXH3_128);
  other.set_trailer(CHECKSUM_SHA256);
  OldServer server;
  ASSERT_TRUE(server.Start(&other).ok());
  ClientContext context;
  auto got = DownloadFile(server.stub(), &context, "f.bin", Local("out.bin"), {});
  EXPECT_TRUE(HasStatus(got.status(), Code::kInternal,
                        "the server's trailer is not in the algorithm of its header"))
      << got.status();

  // An upload's reply in SHA-256 when XXH3-128 was asked for does not vouch for our digest.
  OldFileService sha_replies("");
  sha_replies.set_echo(CHECKSUM_SHA256);
  OldServer upload_server;
  ASSERT_TRUE(upload_server.Start(&sha_replies).ok());
  TestTree::WriteFile(Local("in.bin"), content);
  ClientContext upload_context;
  auto sent = UploadFile(upload_server.stub(), &upload_context, Local("in.bin"), "up.bin", {});
  EXPECT_TRUE(HasStatus(sent.status(), Code::kDataLoss,
                        "the server committed the upload but reports another size or XXH3-128"))
      << sent.status();
}

}  // namespace
}  // namespace framerpc::file

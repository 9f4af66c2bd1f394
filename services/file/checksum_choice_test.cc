// The checksum chosen per transfer, on the server, through the raw stub: each algorithm asked for
// is the one echoed and sent (downloads, their whole-file checksum, uploads, Stat); a request that
// names none (every client from before the choice) gets exactly the SHA-256 fields it always got
// and nothing else; an unknown algorithm is INVALID_ARGUMENT before any work; an upload whose
// digest does not match is DATA_LOSS naming the algorithm and both digests, counted in
// TransferCounters::checksum_failures, whichever the algorithm; digests in the wrong field or of
// the wrong size are INVALID_ARGUMENT. checksum_client_test.cc has the client library's side.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "services/file/checksum.h"
#include "services/file/checksum_proto.h"
#include "services/file/file_client.h"
#include "services/file/file_server_fixture.h"
#include "services/file/test_tree.h"

namespace framerpc::file {
namespace {

using Code = absl::StatusCode;
using Names = std::vector<std::string>;

constexpr size_t kChunk = size_t{64} << 10;

absl::Time Soon() { return absl::Now() + absl::Seconds(30); }

struct Downloaded {
  absl::Status status;
  bool has_header = false;
  DownloadHeader header;
  std::string data;
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
      out.has_header = true;
      out.header = message.header();
    } else if (message.has_trailer()) {
      out.has_trailer = true;
      out.trailer = message.trailer();
    } else {
      out.data += attachment;
    }
  }
  out.status = UnsharedStatus(reader->Finish());
  return out;
}

DownloadRequest Request(const std::string& path, int checksum) {
  DownloadRequest request;
  request.set_path(path);
  request.set_checksum(static_cast<ChecksumAlgorithm>(checksum));
  return request;
}

// What one Upload call sent: the header message, the data, then an optional last message.
struct UploadCall {
  UploadRequest first;
  std::vector<std::string> chunks;
  UploadRequest last;  // sent when it has any field set
};

UploadRequest Header(const std::string& path, uint64_t size, int checksum) {
  UploadRequest message;
  message.mutable_header()->set_path(path);
  message.mutable_header()->set_size(size);
  message.mutable_header()->set_overwrite(true);
  message.mutable_header()->set_checksum(static_cast<ChecksumAlgorithm>(checksum));
  return message;
}

absl::Status RawUpload(FileService::Stub* stub, const UploadCall& call, UploadResponse* response) {
  ClientContext context;
  auto writer = stub->Upload(&context, response);
  bool open = writer->Write(call.first);
  for (const std::string& chunk : call.chunks) open = open && writer->Write(UploadRequest(), chunk);
  if (open && call.last.ByteSizeLong() > 0) open = writer->Write(call.last);
  if (open) writer->WritesDone();
  return UnsharedStatus(writer->Finish());
}

class ChecksumChoiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TestTree::MakeDir(tree_.InRoot("u"));
    FileServiceOptions options;
    options.root.writable = true;
    options.write_access = auth::AccessPolicy::Open();  // a test server on loopback
    options.chunk_bytes = kChunk;
    options.digest_cache.max_entries = 0;  // every checksum is computed: file_digest_cache_test
    absl::Status status = server_.Start(tree_.root(), std::move(options));
    ASSERT_TRUE(status.ok()) << status;
  }
  FileService::Stub* stub() { return server_.stub(); }
  TransferCounters Counters() { return server_.tracker()->Snapshot(); }
  void ExpectNothingUploaded() {
    ASSERT_TRUE(server_.tracker()->WaitFor([](const TransferCounters& c) { return c.active == 0; },
                                           Soon()));
    EXPECT_EQ(TestTree::ListNames(tree_.InRoot("u")), Names{});
  }

  TestTree tree_;
  FileServer server_;
};

TEST_F(ChecksumChoiceTest, DownloadIsHashedInTheAlgorithmAskedFor) {
  const std::string content = TestContent(3 * kChunk + 11);
  TestTree::WriteFile(tree_.InRoot("f.bin"), content);

  Downloaded xxh = RawDownload(stub(), Request("f.bin", CHECKSUM_XXH3_128));
  ASSERT_TRUE(xxh.status.ok()) << xxh.status;
  EXPECT_TRUE(xxh.data == content);
  EXPECT_EQ(xxh.header.checksum(), CHECKSUM_XXH3_128);
  EXPECT_EQ(xxh.trailer.checksum().algorithm(), CHECKSUM_XXH3_128);
  EXPECT_EQ(xxh.trailer.checksum().digest(), Xxh128::Of(content));
  EXPECT_TRUE(xxh.trailer.sha256().empty());  // no SHA-256 computed for it
  EXPECT_FALSE(xxh.trailer.has_file_checksum());

  Downloaded sha = RawDownload(stub(), Request("f.bin", CHECKSUM_SHA256));
  ASSERT_TRUE(sha.status.ok()) << sha.status;
  EXPECT_EQ(sha.header.checksum(), CHECKSUM_SHA256);
  EXPECT_EQ(sha.trailer.checksum().algorithm(), CHECKSUM_SHA256);
  EXPECT_EQ(sha.trailer.checksum().digest(), Sha256::Of(content));
  EXPECT_EQ(sha.trailer.sha256(), Sha256::Of(content));  // the field older readers look at
}

TEST_F(ChecksumChoiceTest, WholeFileChecksumOfARangeIsInTheAlgorithmAskedFor) {
  const std::string content = TestContent(2 * kChunk + 5);
  TestTree::WriteFile(tree_.InRoot("f.bin"), content);
  for (const HashAlgorithm algorithm : {HashAlgorithm::kXxh128, HashAlgorithm::kSha256}) {
    SCOPED_TRACE(AlgorithmName(algorithm));
    DownloadRequest request = Request("f.bin", AlgorithmToProto(algorithm));
    request.set_offset(kChunk + 1);
    request.set_length(100);
    request.set_sha256_from_start(true);
    Downloaded got = RawDownload(stub(), request);
    ASSERT_TRUE(got.status.ok()) << got.status;
    EXPECT_EQ(got.trailer.checksum().digest(),
              Hasher::Of(algorithm, content.substr(kChunk + 1, 100)));
    EXPECT_EQ(got.trailer.file_checksum().algorithm(), AlgorithmToProto(algorithm));
    EXPECT_EQ(got.trailer.file_checksum().digest(),
              Hasher::Of(algorithm, content.substr(0, kChunk + 101)));
  }
}

// A client from before the choice sends no `checksum` field: its header and trailer are byte for
// byte what the server sent before (SHA-256 in sha256 and file_sha256, no new field set).
TEST_F(ChecksumChoiceTest, AnOldClientsDownloadGetsExactlyTheSha256ItAlwaysGot) {
  const std::string content = TestContent(kChunk + 9);
  TestTree::WriteFile(tree_.InRoot("f.bin"), content);
  DownloadRequest request;
  request.set_path("f.bin");
  request.set_offset(3);
  request.set_sha256_from_start(true);
  Downloaded got = RawDownload(stub(), request);
  ASSERT_TRUE(got.status.ok()) << got.status;
  DownloadTrailer before;
  before.set_sha256(Sha256::Of(content.substr(3)));
  before.set_file_sha256(Sha256::Of(content));
  EXPECT_EQ(got.trailer.SerializeAsString(), before.SerializeAsString());
  DownloadHeader header = got.header;
  header.clear_stat();
  DownloadHeader header_before;
  header_before.set_offset(3);
  header_before.set_length(content.size() - 3);
  header_before.set_chunk_bytes(kChunk);
  EXPECT_EQ(header.SerializeAsString(), header_before.SerializeAsString());
}

TEST_F(ChecksumChoiceTest, AnOldClientsUploadAndStatAreSha256AsBefore) {
  const std::string content = TestContent(2 * kChunk + 1, 4);
  UploadCall call{Header("u/f", content.size(), CHECKSUM_UNSPECIFIED), {content}, {}};
  call.first.mutable_header()->set_sha256(Sha256::Of(content));
  call.last.set_sha256(Sha256::Of(content));
  UploadResponse response;
  ASSERT_TRUE(RawUpload(stub(), call, &response).ok());
  UploadResponse before;
  before.set_size(content.size());
  before.set_sha256(Sha256::Of(content));
  EXPECT_EQ(response.SerializeAsString(), before.SerializeAsString());

  StatRequest stat;
  stat.set_path("u/f");
  stat.set_want_sha256(true);
  StatResponse stat_response;
  ClientContext context;
  ASSERT_TRUE(stub()->Stat(&context, stat, &stat_response).ok());
  EXPECT_EQ(stat_response.sha256(), Sha256::Of(content));
  EXPECT_FALSE(stat_response.has_checksum());

  // And a mismatch is the DATA_LOSS it always was.
  call.last.set_sha256(Sha256::Of("other"));
  const uint64_t failures = Counters().checksum_failures;
  EXPECT_TRUE(HasStatus(
      RawUpload(stub(), call, &response), Code::kDataLoss,
      absl::StrCat("has SHA-256 ", DigestToHex(Sha256::Of(content)), ", not the expected ",
                   DigestToHex(Sha256::Of("other")), "; nothing was written")));
  EXPECT_EQ(Counters().checksum_failures, failures + 1);
}

TEST_F(ChecksumChoiceTest, UploadIsCheckedAndAnsweredInTheAlgorithmAskedFor) {
  const std::string content = TestContent(5 * kChunk + 3, 5);  // O_DIRECT staging
  for (const HashAlgorithm algorithm : {HashAlgorithm::kXxh128, HashAlgorithm::kSha256}) {
    SCOPED_TRACE(AlgorithmName(algorithm));
    const std::string digest = Hasher::Of(algorithm, content);
    UploadCall call{Header("u/f", content.size(), AlgorithmToProto(algorithm)),
                    {content.substr(0, kChunk), content.substr(kChunk)},
                    {}};
    call.first.mutable_header()->set_digest(digest);
    call.last.set_digest(digest);
    UploadResponse response;
    absl::Status status = RawUpload(stub(), call, &response);
    ASSERT_TRUE(status.ok()) << status;
    EXPECT_EQ(response.checksum().algorithm(), AlgorithmToProto(algorithm));
    EXPECT_EQ(response.checksum().digest(), digest);
    EXPECT_EQ(response.sha256(),
              algorithm == HashAlgorithm::kSha256 ? Sha256::Of(content) : std::string());
    EXPECT_TRUE(TestTree::ReadFile(tree_.InRoot("u/f")) == content);
  }
}

// Each algorithm's mismatch, in the header and in the last message: DATA_LOSS with the algorithm
// and both digests, nothing committed, and one more checksum failure counted.
TEST_F(ChecksumChoiceTest, AMismatchInEitherAlgorithmIsDataLossAndCounted) {
  const std::string content = TestContent(2 * kChunk + 7, 6);
  const std::string other = content + "!";
  for (const HashAlgorithm algorithm : {HashAlgorithm::kXxh128, HashAlgorithm::kSha256}) {
    for (const bool in_header : {true, false}) {
      SCOPED_TRACE(absl::StrCat(AlgorithmName(algorithm), in_header ? " header" : " last"));
      UploadCall call{Header("u/f", content.size(), AlgorithmToProto(algorithm)), {content}, {}};
      if (in_header) {
        call.first.mutable_header()->set_digest(Hasher::Of(algorithm, other));
      } else {
        call.last.set_digest(Hasher::Of(algorithm, other));
      }
      const uint64_t failures = Counters().checksum_failures;
      UploadResponse response;
      EXPECT_TRUE(HasStatus(
          RawUpload(stub(), call, &response), Code::kDataLoss,
          absl::StrCat("the upload to 'u/f' has ", AlgorithmName(algorithm), " ",
                       DigestToHex(Hasher::Of(algorithm, content)), ", not the expected ",
                       DigestToHex(Hasher::Of(algorithm, other)), "; nothing was written")));
      EXPECT_EQ(Counters().checksum_failures, failures + 1);
      ExpectNothingUploaded();
    }
  }
  EXPECT_EQ(Counters().uploads_committed, 0u);
}

TEST_F(ChecksumChoiceTest, DigestsInTheWrongFieldOrOfTheWrongSizeAreInvalidArgument) {
  const std::string content = "twelve bytes";
  UploadResponse response;
  UploadCall sha_in_xxh{Header("u/f", content.size(), CHECKSUM_XXH3_128), {content}, {}};
  sha_in_xxh.first.mutable_header()->set_sha256(Sha256::Of(content));
  EXPECT_TRUE(HasStatus(RawUpload(stub(), sha_in_xxh, &response), Code::kInvalidArgument,
                        "the header's sha256 field holds a SHA-256, but the upload's checksum is "
                        "XXH3-128; send the expected digest in `digest`"));
  UploadCall sha_last{Header("u/f", content.size(), CHECKSUM_XXH3_128), {content}, {}};
  sha_last.last.set_sha256(Sha256::Of(content));
  EXPECT_TRUE(HasStatus(RawUpload(stub(), sha_last, &response), Code::kInvalidArgument,
                        "the last message's sha256 field holds a SHA-256"));
  UploadCall long_digest{Header("u/f", content.size(), CHECKSUM_XXH3_128), {content}, {}};
  long_digest.first.mutable_header()->set_digest(Sha256::Of(content));
  EXPECT_TRUE(HasStatus(RawUpload(stub(), long_digest, &response), Code::kInvalidArgument,
                        "the header's digest must be 16 bytes (XXH3-128), not 32"));
  UploadCall short_last{Header("u/f", content.size(), CHECKSUM_SHA256), {content}, {}};
  short_last.last.set_digest(Xxh128::Of(content));
  EXPECT_TRUE(HasStatus(RawUpload(stub(), short_last, &response), Code::kInvalidArgument,
                        "the checksum message must carry 32 bytes of SHA-256 and no data"));
  ExpectNothingUploaded();
  EXPECT_EQ(Counters().checksum_failures, 0u);
}

TEST_F(ChecksumChoiceTest, AnUnknownAlgorithmIsRefusedBeforeAnyWork) {
  TestTree::WriteFile(tree_.InRoot("f.bin"), TestContent(kChunk));
  const std::string known = "(this server knows CHECKSUM_XXH3_128 = 2 and CHECKSUM_SHA256 = 1)";
  Downloaded got = RawDownload(stub(), Request("f.bin", 3));
  EXPECT_TRUE(HasStatus(got.status, Code::kInvalidArgument,
                        absl::StrCat("unknown checksum algorithm 3 ", known)));
  EXPECT_FALSE(got.has_header);

  UploadResponse response;
  UploadCall upload{Header("u/f", 4, 99), {"data"}, {}};
  EXPECT_TRUE(HasStatus(RawUpload(stub(), upload, &response), Code::kInvalidArgument,
                        "unknown checksum algorithm 99"));

  StatRequest stat;
  stat.set_path("f.bin");
  stat.set_checksum(static_cast<ChecksumAlgorithm>(-5));
  StatResponse stat_response;
  ClientContext context;
  EXPECT_TRUE(HasStatus(stub()->Stat(&context, stat, &stat_response), Code::kInvalidArgument,
                        "unknown checksum algorithm -5"));
  const TransferCounters counters = Counters();
  EXPECT_EQ(counters.bytes_hashed, 0u);
  EXPECT_EQ(counters.bytes_received, 0u);
  EXPECT_EQ(counters.active, 0);
  ExpectNothingUploaded();
}

TEST_F(ChecksumChoiceTest, StatComputesEachChecksumAskedFor) {
  const std::string content = TestContent(kChunk + 1, 7);
  TestTree::WriteFile(tree_.InRoot("f.bin"), content);
  StatRequest request;
  request.set_path("f.bin");
  request.set_checksum(CHECKSUM_XXH3_128);
  StatResponse response;
  {
    ClientContext context;
    ASSERT_TRUE(stub()->Stat(&context, request, &response).ok());
  }
  EXPECT_EQ(response.checksum().algorithm(), CHECKSUM_XXH3_128);
  EXPECT_EQ(response.checksum().digest(), Xxh128::Of(content));
  EXPECT_TRUE(response.sha256().empty());

  // Both: two digests.
  request.set_want_sha256(true);
  {
    ClientContext context;
    ASSERT_TRUE(stub()->Stat(&context, request, &response).ok());
  }
  EXPECT_EQ(response.checksum().digest(), Xxh128::Of(content));
  EXPECT_EQ(response.sha256(), Sha256::Of(content));

  // SHA-256 both ways is one digest, hashed once.
  request.set_checksum(CHECKSUM_SHA256);
  const uint64_t hashed = Counters().bytes_hashed;
  {
    ClientContext context;
    ASSERT_TRUE(stub()->Stat(&context, request, &response).ok());
  }
  EXPECT_EQ(response.checksum().digest(), Sha256::Of(content));
  EXPECT_EQ(response.sha256(), Sha256::Of(content));
  EXPECT_EQ(Counters().bytes_hashed, hashed + content.size());

  // A directory has no checksum, in any algorithm.
  request.set_path("u");
  StatResponse directory;
  ClientContext context;
  ASSERT_TRUE(stub()->Stat(&context, request, &directory).ok());
  EXPECT_FALSE(directory.has_checksum());
  EXPECT_TRUE(directory.sha256().empty());
}

}  // namespace
}  // namespace framerpc::file

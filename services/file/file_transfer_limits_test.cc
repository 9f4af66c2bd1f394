// What goes wrong in transfers, end to end: uploads that are cut off, cancelled, disconnected,
// too long, too short, too large or mismatched leave nothing behind (under each way of staging
// uploads); the cap on concurrent transfers; and a client that never reads, which must cost the
// server no more than the flow-control window, whether the default or the one DownloadFile asks
// for. Waits use the service's TransferTracker, never sleeps.
#include <signal.h>
#include <sys/resource.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "rpc/server.h"
#include "services/file/file_client.h"
#include "services/file/file_server_fixture.h"
#include "services/file/sha256.h"
#include "services/file/test_tree.h"
#include "services/file/xxh128.h"

namespace framerpc::file {
namespace {

using Code = absl::StatusCode;
using Names = std::vector<std::string>;

constexpr size_t kChunk = size_t{64} << 10;
// Each stream direction's flow-control window (docs/protocol.md §11.2).
constexpr uint64_t kDefaultStreamWindow = uint64_t{1} << 20;

absl::Time Soon() { return absl::Now() + absl::Seconds(30); }

UploadRequest HeaderMessage(const std::string& path, uint64_t size,
                            const std::string& sha256 = "", bool overwrite = false) {
  UploadRequest message;
  UploadHeader* header = message.mutable_header();
  header->set_path(path);
  header->set_size(size);
  header->set_sha256(sha256);
  header->set_overwrite(overwrite);
  return message;
}

// Sends `first`, then `chunks` as data, then (if not empty) a checksum message, then half-closes.
absl::Status RawUpload(FileService::Stub* stub, const UploadRequest& first,
                       const std::vector<std::string>& chunks, const std::string& final_sha256 = "") {
  ClientContext context;
  UploadResponse response;
  auto writer = stub->Upload(&context, &response);
  bool open = writer->Write(first);
  for (const std::string& chunk : chunks) open = open && writer->Write(UploadRequest(), chunk);
  if (open && !final_sha256.empty()) {
    UploadRequest last;
    last.set_sha256(final_sha256);
    open = writer->Write(last);
  }
  if (open) writer->WritesDone();
  return UnsharedStatus(writer->Finish());
}

class UploadFailureTest : public ::testing::TestWithParam<TestMode> {
 protected:
  void SetUp() override { StartServer(10 * kChunk, kChunk); }

  // A writable u/ holding u/existing.txt, served with these limits (chunk_bytes 0: the default).
  void StartServer(uint64_t max_upload_bytes, size_t chunk_bytes) {
    TestTree::MakeDir(tree_.InRoot("u"));
    TestTree::WriteFile(tree_.InRoot("u/existing.txt"), "original");
    FileServiceOptions options;
    options.root.writable = true;
    options.write_access = auth::AccessPolicy::Open();  // a test server on loopback
    ApplyTestMode(GetParam(), &options.root);
    if (chunk_bytes > 0) options.chunk_bytes = chunk_bytes;
    options.max_upload_bytes = max_upload_bytes;
    absl::Status status = server_.Start(tree_.root(), options);
    ASSERT_TRUE(status.ok()) << status;
  }
  void TearDown() override { tree_.ExpectOutsideUntouched(); }

  // Nothing but the original file in u/: no target, no temp file.
  void ExpectNothingLeft() {
    ASSERT_TRUE(server_.tracker()->WaitFor([](const TransferCounters& c) { return c.active == 0; },
                                           Soon()));
    EXPECT_EQ(TestTree::ListNames(tree_.InRoot("u")), Names{"existing.txt"});
    EXPECT_EQ(TestTree::ReadFile(tree_.InRoot("u/existing.txt")), "original");
    EXPECT_EQ(server_.tracker()->Snapshot().uploads_committed, 0u);
  }

  // Starts an upload of `declared` bytes to `path`, sends `pieces`, waits until the server has
  // them all, then drops the client's connection (a killed client looks the same to the server)
  // and waits until the server counts the upload as failed.
  void UploadThenDisconnect(const std::string& path, uint64_t declared,
                            const std::vector<std::string>& pieces) {
    auto channel = Channel::Create(server_.server()->listen_address(0));
    ASSERT_TRUE(channel.ok());
    auto stub = std::make_unique<FileService::Stub>(channel->get());
    auto context = std::make_unique<ClientContext>();
    UploadResponse response;
    auto writer = stub->Upload(context.get(), &response);
    ASSERT_TRUE(writer->Write(HeaderMessage(path, declared)));
    uint64_t sent = 0;
    for (const std::string& piece : pieces) {
      ASSERT_TRUE(writer->Write(UploadRequest(), piece));
      sent += piece.size();
    }
    ASSERT_TRUE(server_.tracker()->WaitFor(
        [sent](const TransferCounters& c) { return c.bytes_received >= sent; }, Soon()));
    writer.reset();
    stub.reset();
    channel->reset();
    ASSERT_TRUE(server_.tracker()->WaitFor(
        [](const TransferCounters& c) { return c.uploads_failed == 1; }, Soon()));
  }

  TestTree tree_;
  FileServer server_;
};

// 2 chunks + 1 is written through the page cache, 6 chunks + 1 (384 KiB) with O_DIRECT.
TEST_P(UploadFailureTest, WrongChecksumInTheHeaderIsDataLoss) {
  for (size_t size : {2 * kChunk + 1, 6 * kChunk + 1}) {
    const std::string data = TestContent(size);
    const std::string wrong = Sha256::Of("something else");
    absl::Status status = RawUpload(server_.stub(), HeaderMessage("u/f", data.size(), wrong),
                                    {data.substr(0, kChunk), data.substr(kChunk)});
    EXPECT_TRUE(HasStatus(status, Code::kDataLoss,
                          absl::StrCat("has SHA-256 ", DigestToHex(Sha256::Of(data)),
                                       ", not the expected ", DigestToHex(wrong),
                                       "; nothing was written")));
    ExpectNothingLeft();
  }
}

TEST_P(UploadFailureTest, WrongChecksumInTheLastMessageIsDataLoss) {
  const std::string data = TestContent(kChunk);
  absl::Status status = RawUpload(server_.stub(), HeaderMessage("u/f", data.size()), {data},
                                  Sha256::Of(data + "x"));
  EXPECT_TRUE(HasStatus(status, Code::kDataLoss, "not the expected"));
  ExpectNothingLeft();
}

TEST_P(UploadFailureTest, TooFewTooManyAndMisplacedMessagesAreInvalidArgument) {
  EXPECT_TRUE(HasStatus(RawUpload(server_.stub(), HeaderMessage("u/f", 10), {"12345"}),
                        Code::kInvalidArgument, "ended after 5 of the 10 bytes announced"));
  // Large enough for O_DIRECT, cut off with part of a block staged.
  EXPECT_TRUE(HasStatus(RawUpload(server_.stub(), HeaderMessage("u/f", 8 * kChunk),
                                  {TestContent(5 * kChunk + 3)}),
                        Code::kInvalidArgument,
                        absl::StrCat("ended after ", 5 * kChunk + 3, " of the ", 8 * kChunk,
                                     " bytes announced")));
  EXPECT_TRUE(HasStatus(RawUpload(server_.stub(), HeaderMessage("u/f", 4), {"12345"}),
                        Code::kInvalidArgument, "sent more than the 4 bytes"));
  EXPECT_TRUE(HasStatus(RawUpload(server_.stub(), UploadRequest(), {"12345"}),
                        Code::kInvalidArgument, "first message of an upload must carry the header"));
  EXPECT_TRUE(HasStatus(RawUpload(server_.stub(), HeaderMessage("u/f", 5), {"12", "345"},
                                  "short"),
                        Code::kInvalidArgument, "SHA-256 message must carry 32 bytes"));
  EXPECT_TRUE(HasStatus(RawUpload(server_.stub(), HeaderMessage("u/f", 3, "bad"), {"123"}),
                        Code::kInvalidArgument, "expected SHA-256 must be 32 bytes, not 3"));
  ExpectNothingLeft();
}

TEST_P(UploadFailureTest, OverTheSizeLimitIsRefusedBeforeAnyData) {
  const uint64_t limit = 10 * kChunk;
  EXPECT_TRUE(HasStatus(RawUpload(server_.stub(), HeaderMessage("u/f", limit + 1), {"x"}),
                        Code::kResourceExhausted,
                        absl::StrCat("an upload of ", limit + 1,
                                     " bytes exceeds the server's limit of ", limit, " bytes")));
  // Over 4 GiB, announced: refused the same way.
  EXPECT_TRUE(HasStatus(RawUpload(server_.stub(), HeaderMessage("u/f", uint64_t{5} << 30), {}),
                        Code::kResourceExhausted, "exceeds the server's limit"));
  EXPECT_EQ(server_.tracker()->Snapshot().bytes_received, 0u);
  ExpectNothingLeft();
  // At the limit it goes through.
  const std::string data = TestContent(limit);
  ClientContext context;
  TestTree::WriteFile(tree_.base() + "/limit.bin", data);
  ASSERT_TRUE(UploadFile(server_.stub(), &context, tree_.base() + "/limit.bin", "u/limit", {}).ok());
  EXPECT_TRUE(TestTree::ReadFile(tree_.InRoot("u/limit")) == data);
}

TEST_P(UploadFailureTest, ExistingTargetNeedsOverwrite) {
  EXPECT_TRUE(HasStatus(RawUpload(server_.stub(), HeaderMessage("u/existing.txt", 3), {"new"}),
                        Code::kAlreadyExists, "already exists; upload with overwrite"));
  ExpectNothingLeft();
  ASSERT_TRUE(RawUpload(server_.stub(), HeaderMessage("u/existing.txt", 3, "", true), {"new"}).ok());
  EXPECT_EQ(TestTree::ReadFile(tree_.InRoot("u/existing.txt")), "new");
  EXPECT_EQ(TestTree::ListNames(tree_.InRoot("u")), Names{"existing.txt"});
}

// Cancelled halfway, once the server has written part of the data to its temp file.
TEST_P(UploadFailureTest, CancelledHalfwayLeavesNothing) {
  const std::string data = TestContent(4 * kChunk);
  ClientContext context;
  UploadResponse response;
  auto writer = server_.stub()->Upload(&context, &response);
  ASSERT_TRUE(writer->Write(HeaderMessage("u/f", data.size())));
  ASSERT_TRUE(writer->Write(UploadRequest(), data.substr(0, 2 * kChunk)));
  ASSERT_TRUE(server_.tracker()->WaitFor(
      [](const TransferCounters& c) { return c.bytes_received >= 2 * kChunk; }, Soon()));
  if (!GetParam().proc) {  // The named temp file exists now, and only it.
    const Names names = TestTree::ListNames(tree_.InRoot("u"));
    ASSERT_EQ(names.size(), 2u);
    EXPECT_EQ(names[0].rfind(".frpc-upload-", 0), 0u) << names[0];
  }
  context.TryCancel();
  const absl::Status finished = UnsharedStatus(writer->Finish());
  EXPECT_TRUE(absl::IsCancelled(finished)) << finished;
  ASSERT_TRUE(server_.tracker()->WaitFor(
      [](const TransferCounters& c) { return c.uploads_failed == 1; }, Soon()));
  ExpectNothingLeft();
}

// The client's connection goes away mid-upload (a killed client looks the same to the server).
TEST_P(UploadFailureTest, ClientDisconnectingHalfwayLeavesNothing) {
  UploadThenDisconnect("u/f", 3 * kChunk, {TestContent(kChunk)});
  ExpectNothingLeft();
}

// The client library reads only regular files, and fails before it starts a call otherwise.
TEST_P(UploadFailureTest, ClientLibraryRefusesALocalPathThatIsNoFile) {
  ClientContext context;
  EXPECT_TRUE(HasStatus(UploadFile(server_.stub(), &context, tree_.base(), "u/f", {}).status(),
                        Code::kFailedPrecondition, "is not a regular file"));
  ClientContext missing;
  EXPECT_TRUE(HasStatus(
      UploadFile(server_.stub(), &missing, tree_.base() + "/missing", "u/f", {}).status(),
      Code::kNotFound));
  ExpectNothingLeft();
}

INSTANTIATE_TEST_SUITE_P(AllModes, UploadFailureTest, ::testing::ValuesIn(AllTestModes()),
                         TestModeName);

// Uploads of many of the server's staging blocks (DirectWriter: 1 MiB, written by its own thread
// while the next fills): committed byte for byte when whole and matching; refused with nothing
// left when the digest does not match, when the client goes away after blocks were written, and
// when the disk fills (the file-size limit, RLIMIT_FSIZE, of this process, which runs the server).
class LargeUploadTest : public UploadFailureTest {
 protected:
  static constexpr size_t kPart = size_t{8} << 20;  // well past the first blocks
  static constexpr size_t kLarge = 2 * kPart + 12345;

  void SetUp() override { StartServer(2 * kLarge, /*chunk_bytes=*/0); }

  static std::vector<std::string> Pieces(const std::string& data) {
    std::vector<std::string> pieces;
    for (size_t at = 0; at < data.size(); at += kStreamPiece) {
      pieces.push_back(data.substr(at, kStreamPiece));
    }
    return pieces;
  }
  static constexpr size_t kStreamPiece = size_t{256} << 10;
};

TEST_P(LargeUploadTest, AWholeMatchingUploadIsCommittedByteForByte) {
  const std::string data = TestContent(kLarge, 7);
  EXPECT_TRUE(RawUpload(server_.stub(), HeaderMessage("u/big", data.size(), Sha256::Of(data)),
                        Pieces(data))
                  .ok());
  EXPECT_EQ(TestTree::ReadFile(tree_.InRoot("u/big")), data);
  EXPECT_EQ(TestTree::ListNames(tree_.InRoot("u")), (Names{"big", "existing.txt"}));
}

TEST_P(LargeUploadTest, AMismatchedDigestIsRefusedAndLeavesNothing) {
  const std::string data = TestContent(kLarge, 8);
  std::string sent = data;
  sent[kPart + 1] ^= 1;  // in a block written long before the end
  EXPECT_TRUE(HasStatus(RawUpload(server_.stub(),
                                  HeaderMessage("u/big", data.size(), Sha256::Of(data)),
                                  Pieces(sent)),
                        Code::kDataLoss, "not the expected"));
  ExpectNothingLeft();
}

TEST_P(LargeUploadTest, AClientGoneAfterBlocksWereWrittenLeavesNothing) {
  UploadThenDisconnect("u/big", kLarge, Pieces(TestContent(kPart + kStreamPiece, 9)));
  ExpectNothingLeft();
}

// The disk fills after 8 MiB: RESOURCE_EXHAUSTED naming the file, nothing left.
TEST_P(LargeUploadTest, ADiskThatFillsIsResourceExhaustedAndLeavesNothing) {
  const std::string data = TestContent(kLarge, 10);
  struct rlimit old_limit;
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  struct sigaction ignore = {};
  ignore.sa_handler = SIG_IGN;  // write() then fails with EFBIG instead of killing the process
  struct sigaction old_action;
  ASSERT_EQ(::sigaction(SIGXFSZ, &ignore, &old_action), 0);
  struct rlimit limit = old_limit;
  limit.rlim_cur = kPart + 4096;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &limit), 0);
  const absl::Status status =
      RawUpload(server_.stub(), HeaderMessage("u/big", data.size()), Pieces(data));
  ::setrlimit(RLIMIT_FSIZE, &old_limit);
  ::sigaction(SIGXFSZ, &old_action, nullptr);
  EXPECT_TRUE(HasStatus(status, Code::kResourceExhausted, "cannot write 'u/big'"));
  ASSERT_TRUE(server_.tracker()->WaitFor(
      [](const TransferCounters& c) { return c.uploads_failed == 1; }, Soon()));
  ExpectNothingLeft();
}

INSTANTIATE_TEST_SUITE_P(AllModes, LargeUploadTest, ::testing::ValuesIn(AllTestModes()),
                         TestModeName);

class TransferLimitsTest : public ::testing::Test {
 protected:
  void Start(int max_transfers) {
    FileServiceOptions options;
    options.chunk_bytes = kChunk;
    options.max_transfers = max_transfers;
    absl::Status status = server_.Start(tree_.root(), options);
    ASSERT_TRUE(status.ok()) << status;
    // Far larger than the window and the socket buffers, so that a download that is not read
    // stays open; sparse, so that it costs nothing.
    ASSERT_TRUE(MakeSparseFile(tree_.InRoot("big"), uint64_t{256} << 20, 0, "x").ok());
  }

  TestTree tree_;
  FileServer server_;
};

TEST_F(TransferLimitsTest, TransfersBeyondTheCapAreResourceExhausted) {
  Start(2);
  DownloadRequest request;
  request.set_path("big");
  ClientContext c1, c2;
  auto d1 = server_.stub()->Download(&c1, request);
  auto d2 = server_.stub()->Download(&c2, request);
  DownloadResponse header;
  ASSERT_TRUE(d1->Read(&header) && header.has_header());  // both hold a slot now
  ASSERT_TRUE(d2->Read(&header) && header.has_header());

  ClientContext c3;
  auto d3 = server_.stub()->Download(&c3, request);
  EXPECT_FALSE(d3->Read(&header));
  EXPECT_TRUE(HasStatus(d3->Finish(), Code::kResourceExhausted,
                        "too many concurrent transfers (limit 2); retry later"));
  StatRequest stat;
  stat.set_path("big");
  stat.set_want_sha256(true);
  StatResponse stat_response;
  ClientContext c4;
  EXPECT_TRUE(HasStatus(server_.stub()->Stat(&c4, stat, &stat_response), Code::kResourceExhausted));
  stat.set_want_sha256(false);  // no transfer: not capped
  ClientContext c5;
  EXPECT_TRUE(server_.stub()->Stat(&c5, stat, &stat_response).ok());
  EXPECT_EQ(server_.tracker()->Snapshot().refused, 2u);

  // Ending one frees its slot.
  c1.TryCancel();
  EXPECT_TRUE(absl::IsCancelled(d1->Finish()));
  ASSERT_TRUE(server_.tracker()->WaitFor([](const TransferCounters& c) { return c.active == 1; },
                                         Soon()));
  request.set_path("big");
  request.set_offset((uint64_t{256} << 20) - 5);
  ClientContext c6;
  auto d6 = server_.stub()->Download(&c6, request);
  std::string data;
  while (d6->Read(&header, &data)) {
  }
  EXPECT_TRUE(d6->Finish().ok());
  c2.TryCancel();
  d2->Finish().IgnoreError();
}

// A client that never reads its download: the handler blocks in its write once the window is
// used up, and the server holds no more than the window plus one message for the connection.
TEST_F(TransferLimitsTest, ClientThatNeverReadsCostsTheServerOneWindow) {
  Start(4);
  DownloadRequest request;
  request.set_path("big");
  ClientContext context;
  auto reader = server_.stub()->Download(&context, request);
  TransferTracker* tracker = server_.tracker();
  // The window holds 16 messages of kChunk bytes plus their envelopes, and nothing is read, so
  // no credit comes back: the 17th write must block. Wait until it is under way...
  ASSERT_TRUE(tracker->WaitFor(
      [](const TransferCounters& c) {
        return c.chunk_writes_done >= 16 && c.chunk_writes_started > c.chunk_writes_done;
      },
      Soon()));
  // ...and check that it stays blocked: a call on the same connection completes meanwhile.
  StatRequest stat;
  stat.set_path("big");
  StatResponse stat_response;
  ClientContext stat_context;
  ASSERT_TRUE(server_.stub()->Stat(&stat_context, stat, &stat_response).ok());
  const TransferCounters counters = tracker->Snapshot();
  EXPECT_EQ(counters.chunk_writes_done, kDefaultStreamWindow / kChunk);
  EXPECT_EQ(counters.chunk_writes_started, counters.chunk_writes_done + 1);
  EXPECT_EQ(counters.bytes_sent, kDefaultStreamWindow);
  // What the server holds for the connection in user space is bounded by the same window.
  EXPECT_LE(server_.server()->QueuedOutputBytes(), kDefaultStreamWindow + kChunk + 64);

  // Reading resumes it.
  DownloadResponse message;
  std::string data;
  uint64_t read = 0;
  while (read < 4 * (uint64_t{1} << 20) && reader->Read(&message, &data)) read += data.size();
  ASSERT_TRUE(tracker->WaitFor(
      [&](const TransferCounters& c) { return c.bytes_sent >= counters.bytes_sent + (1u << 20); },
      Soon()));
  context.TryCancel();
  EXPECT_TRUE(absl::IsCancelled(reader->Finish()));
  ASSERT_TRUE(tracker->WaitFor([](const TransferCounters& c) { return c.active == 0; }, Soon()));
}

// DownloadFile asks for its receive window (DownloadOptions::receive_window_bytes, the
// parameter: 0, the channel's 1 MiB; 2 MiB; the default, 4 MiB). While its progress callback
// holds the client's thread after the header, nothing is read: the server must stop with exactly
// the window sent, one write blocked, and no more than the window queued; released, the download
// completes and verifies.
class DownloadWindowTest : public ::testing::TestWithParam<int64_t> {
 protected:
  void SetUp() override {
    FileServiceOptions options;
    options.chunk_bytes = kChunk;
    absl::Status status = server_.Start(tree_.root(), options);
    ASSERT_TRUE(status.ok()) << status;
  }
  void TearDown() override { tree_.ExpectOutsideUntouched(); }

  TestTree tree_;
  FileServer server_;
};

TEST_F(DownloadWindowTest, DefaultWindowIsWithinTheServersDefaultLimit) {
  EXPECT_GT(kDownloadReceiveWindowBytes, 0);
  EXPECT_LE(kDownloadReceiveWindowBytes, int64_t{ServerOptions().max_stream_window_bytes});
  EXPECT_EQ(DownloadOptions().receive_window_bytes, kDownloadReceiveWindowBytes);
}

TEST_P(DownloadWindowTest, UnreadDownloadStopsAtTheWindowAskedForAndThenVerifies) {
  const int64_t asked = GetParam();
  const uint64_t window = asked > 0 ? static_cast<uint64_t>(asked) : kDefaultStreamWindow;
  ASSERT_EQ(window % kChunk, 0u);
  // Several windows and a ragged end, so that the download outlasts the window by far.
  const std::string content = TestContent(3 * window + kChunk + 17, 7);
  TestTree::WriteFile(tree_.InRoot("f.bin"), content);
  TransferTracker* tracker = server_.tracker();
  DownloadOptions options;
  options.receive_window_bytes = asked;
  bool held = false;
  TransferCounters at_window;
  uint64_t queued_at_window = 0;
  options.progress = [&](uint64_t done, uint64_t) {
    if (held || done != 0) return;
    held = true;
    ASSERT_TRUE(tracker->WaitFor(
        [&](const TransferCounters& c) {
          return c.chunk_writes_done >= window / kChunk &&
                 c.chunk_writes_started > c.chunk_writes_done;
        },
        Soon()));
    // A call on the same connection completes meanwhile: no credit slipped through with it.
    StatRequest stat;
    stat.set_path("f.bin");
    StatResponse stat_response;
    ClientContext stat_context;
    ASSERT_TRUE(server_.stub()->Stat(&stat_context, stat, &stat_response).ok());
    at_window = tracker->Snapshot();
    queued_at_window = server_.server()->QueuedOutputBytes();
  };
  ClientContext context;
  const std::string local = tree_.base() + "/local.bin";
  absl::StatusOr<DownloadResult> result =
      DownloadFile(server_.stub(), &context, "f.bin", local, options);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_TRUE(held);
  EXPECT_EQ(at_window.chunk_writes_done, window / kChunk);
  EXPECT_EQ(at_window.chunk_writes_started, at_window.chunk_writes_done + 1);
  EXPECT_EQ(at_window.bytes_sent, window);
  EXPECT_LE(queued_at_window, window + kChunk + 64);

  EXPECT_EQ(result->received, content.size());
  EXPECT_EQ(result->digest, Xxh128::Of(content));
  EXPECT_EQ(TestTree::ReadFile(local), content);
  ASSERT_TRUE(tracker->WaitFor([](const TransferCounters& c) { return c.active == 0; }, Soon()));
}

INSTANTIATE_TEST_SUITE_P(Windows, DownloadWindowTest,
                         ::testing::Values(int64_t{0}, int64_t{2} << 20,
                                           kDownloadReceiveWindowBytes),
                         [](const ::testing::TestParamInfo<int64_t>& info) {
                           return absl::StrCat("Window", info.param >> 10, "KiB");
                         });

// A window above the server's limit is refused before anything is sent, and the local file is
// not touched.
TEST_F(DownloadWindowTest, WindowAboveTheServersLimitIsRefusedAndWritesNothing) {
  TestTree::WriteFile(tree_.InRoot("f.bin"), "data");
  const std::string local = tree_.base() + "/local.bin";
  TestTree::WriteFile(local, "mine");
  DownloadOptions options;
  options.receive_window_bytes = int64_t{ServerOptions().max_stream_window_bytes} + 1;
  ClientContext context;
  EXPECT_TRUE(HasStatus(
      DownloadFile(server_.stub(), &context, "f.bin", local, options).status(),
      Code::kResourceExhausted));
  EXPECT_EQ(TestTree::ReadFile(local), "mine");
  EXPECT_EQ(server_.tracker()->Snapshot().bytes_sent, 0u);
}

}  // namespace
}  // namespace framerpc::file

// The slow-reader attack on the file service (issue 13, item 4): clients that start downloads
// with a large window and then never read. Found against the old server: 17 such requests held
// all 16 transfer slots, and 200 MiB, until the attackers went away. Here:
//  - the attackers' writes stop at their window, the stream stall timeout ends their calls with
//    RESOURCE_EXHAUSTED, their slots are freed, and a normal client's download then succeeds;
//  - one peer (an IP address; a Unix-socket uid) cannot take every slot: another still gets one;
//  - a call that ends any other way (deadline, disconnect) gives its slot back at once.
// The attackers are raw sockets that speak the framing by hand and never read from the socket
// (nor grant credit) until the test asks what they were sent. Waits use the TransferTracker.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "services/file/file_client.h"
#include "services/file/file_server_fixture.h"
#include "services/file/test_tree.h"
#include "tests/raw_peer.h"

namespace framerpc::file {
namespace {

using Code = absl::StatusCode;
using test::RawPeer;

constexpr char kDownload[] = "/framerpc.file.FileService/Download";
constexpr size_t kChunk = size_t{64} << 10;
// The largest window the server grants by default (ServerOptions::max_stream_window_bytes), as
// the attack asked for.
constexpr uint32_t kLargeWindow = uint32_t{16} << 20;
constexpr uint64_t kBigFileBytes = uint64_t{256} << 20;  // far beyond one window

absl::Time Soon() { return absl::Now() + absl::Seconds(30); }

// A raw client connected from `source` (a loopback address) to `server`.
RawPeer ConnectFrom(const std::string& source, const std::string& server) {
  ScopedFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in local{};
  local.sin_family = AF_INET;
  EXPECT_EQ(::inet_pton(AF_INET, source.c_str(), &local.sin_addr), 1);
  EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&local), sizeof local), 0);
  const SocketAddress address = SocketAddress::Parse(server).value();
  EXPECT_EQ(::connect(fd.get(), address.sockaddr_ptr(), address.length()), 0);
  return RawPeer::Adopt(std::move(fd));
}

// Starts call 1 on `peer`: a Download of `path` granting `window` bytes of credit, none after.
void StartDownload(RawPeer& peer, const std::string& path, uint32_t window) {
  Envelope request;
  request.set_kind(REQUEST);
  request.set_call_id(1);
  request.set_method(kDownload);
  request.set_window_update(window);
  ASSERT_TRUE(peer.SendFrame(request));
  Envelope message;
  message.set_kind(STREAM_MESSAGE);
  message.set_call_id(1);
  DownloadRequest download;
  download.set_path(path);
  ASSERT_TRUE(peer.SendFrame(message, download.SerializeAsString()));
}

struct Received {
  bool header = false;
  std::string data;
  Code code = Code::kUnknown;
  std::string message;
};

// Reads call 1 to its end: the header, the data, and the status.
Received ReadToEnd(RawPeer& peer) {
  Received received;
  for (;;) {
    absl::StatusOr<Frame> frame = peer.ReadFrame();
    EXPECT_TRUE(frame.ok()) << frame.status();
    if (!frame.ok()) return received;
    if (frame->envelope.kind() == RESPONSE) {
      received.code = static_cast<Code>(frame->envelope.status_code());
      received.message = frame->envelope.status_message();
      return received;
    }
    if (frame->envelope.kind() != STREAM_MESSAGE) continue;
    DownloadResponse response;
    const absl::string_view bytes = frame->message_bytes();
    EXPECT_TRUE(response.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())));
    received.header = received.header || response.has_header();
    received.data.append(frame->attachment().data(), frame->attachment().size());
  }
}

// The first frame the server sent for call 1: a STREAM_MESSAGE (the header: the call holds a
// slot) or the RESPONSE that refused it. Reading it grants the server no credit.
absl::StatusOr<Frame> FirstFrame(RawPeer& peer) { return peer.ReadFrame(); }

class SlowReaderAttackTest : public ::testing::Test {
 protected:
  void Start(int max_transfers, int max_per_peer, const std::string& address = "127.0.0.1:0") {
    FileServiceOptions options;
    options.chunk_bytes = kChunk;
    options.max_transfers = max_transfers;
    options.max_transfers_per_peer = max_per_peer;
    absl::Status status = server_.Start(tree_.root(), options, address);
    ASSERT_TRUE(status.ok()) << status;
    // Sparse: it costs nothing, and no download of it ends within a window.
    ASSERT_TRUE(MakeSparseFile(tree_.InRoot("big"), kBigFileBytes, 0, "x").ok());
    TestTree::WriteFile(tree_.InRoot("small.bin"), small_);
  }
  void TearDown() override { tree_.ExpectOutsideUntouched(); }

  std::string address() { return server_.server()->listen_address(0); }
  TransferTracker* tracker() { return server_.tracker(); }

  // A normal client's whole download through the client library, checked against the file.
  absl::Status NormalDownload(FileService::Stub* stub) {
    ClientContext context;
    const std::string local = tree_.base() + "/local.bin";
    ::unlink(local.c_str());
    absl::StatusOr<DownloadResult> result =
        DownloadFile(stub, &context, "small.bin", local, DownloadOptions());
    if (!result.ok()) return result.status();
    EXPECT_EQ(TestTree::ReadFile(local), small_);
    return absl::OkStatus();
  }

  const std::string small_ = TestContent(5 * kChunk + 17, 3);
  TestTree tree_;
  FileServer server_;
};

// The attack as reported, scaled to 4 slots: every slot taken by a client that never reads, one
// more refused. The stall timeout ends them, and what each was sent is one window.
TEST_F(SlowReaderAttackTest, StalledDownloadsAreCutOffAndTheirSlotsFreed) {
  constexpr int kSlots = 4;
  constexpr absl::Duration kStall = absl::Seconds(2);
  server_.server_options()->stream_stall_timeout = kStall;
  ASSERT_NO_FATAL_FAILURE(Start(kSlots, /*max_per_peer=*/0));
  std::vector<RawPeer> attackers;
  for (int i = 0; i < kSlots; ++i) {
    attackers.push_back(ConnectFrom("127.0.0.2", address()));
    StartDownload(attackers.back(), "big", kLargeWindow);
  }
  // Each holds a slot, and its handler is blocked in a write with its window used up.
  ASSERT_TRUE(tracker()->WaitFor(
      [](const TransferCounters& c) {
        return c.active == kSlots && c.chunk_writes_started - c.chunk_writes_done == kSlots;
      },
      Soon()));
  // What the server holds for them in user space is bounded by their windows.
  EXPECT_LE(server_.server()->QueuedOutputBytes(),
            kSlots * (kLargeWindow + kChunk + 64 * (kLargeWindow / kChunk + 2)));
  RawPeer one_more = ConnectFrom("127.0.0.2", address());
  StartDownload(one_more, "big", kLargeWindow);
  const Received refused = ReadToEnd(one_more);
  EXPECT_EQ(refused.code, Code::kResourceExhausted);
  EXPECT_EQ(refused.message,
            absl::StrCat("too many concurrent transfers (limit ", kSlots, "); retry later"));

  // The old server held the slots until the attackers went away.
  ASSERT_TRUE(tracker()->WaitFor([](const TransferCounters& c) { return c.active == 0; }, Soon()))
      << "the stalled downloads still hold " << tracker()->Snapshot().active << " slots";
  EXPECT_TRUE(NormalDownload(server_.stub()).ok());

  for (RawPeer& attacker : attackers) {
    const Received received = ReadToEnd(attacker);
    EXPECT_TRUE(received.header);
    EXPECT_GE(received.data.size(), kLargeWindow - kChunk);
    EXPECT_LE(received.data.size(), kLargeWindow + kChunk);
    EXPECT_EQ(received.code, Code::kResourceExhausted);
    EXPECT_EQ(received.message, "the peer has read nothing of this stream for 2s; giving up");
  }
}

// One peer asks for every slot; it gets its share, and another peer still gets one. The slots
// count by address, not by connection: the first peer's next connection is refused as well.
TEST_F(SlowReaderAttackTest, OnePeerCannotTakeEverySlot) {
  constexpr int kSlots = 4;
  constexpr int kPerPeer = 2;
  ASSERT_NO_FATAL_FAILURE(Start(kSlots, kPerPeer));
  std::vector<RawPeer> attackers;
  for (int i = 0; i < kSlots; ++i) {
    attackers.push_back(ConnectFrom("127.0.0.1", address()));
    StartDownload(attackers.back(), "big", kLargeWindow);
  }
  std::vector<RawPeer*> holders;
  int refused = 0;
  for (RawPeer& attacker : attackers) {
    absl::StatusOr<Frame> first = FirstFrame(attacker);
    ASSERT_TRUE(first.ok()) << first.status();
    if (first->envelope.kind() == STREAM_MESSAGE) {
      holders.push_back(&attacker);
      continue;
    }
    ++refused;
    EXPECT_EQ(first->envelope.status_code(), static_cast<int>(Code::kResourceExhausted));
    EXPECT_EQ(first->envelope.status_message(),
              "too many concurrent transfers from 127.0.0.1 (limit 2 per peer); retry later");
  }
  EXPECT_EQ(holders.size(), size_t{kPerPeer});
  EXPECT_EQ(refused, kSlots - kPerPeer);
  EXPECT_EQ(tracker()->ActiveFrom("127.0.0.1"), kPerPeer);

  RawPeer other = ConnectFrom("127.0.0.2", address());
  StartDownload(other, "small.bin", kLargeWindow);
  const Received received = ReadToEnd(other);
  EXPECT_EQ(received.code, Code::kOk) << received.message;
  EXPECT_TRUE(received.data == small_);

  // The library client connects from 127.0.0.1 too.
  EXPECT_TRUE(HasStatus(NormalDownload(server_.stub()), Code::kResourceExhausted,
                        "too many concurrent transfers from 127.0.0.1 (limit 2 per peer)"));
  // The holders go away: their slots come back with their connections.
  attackers.clear();
  ASSERT_TRUE(tracker()->WaitFor([](const TransferCounters& c) { return c.active == 0; }, Soon()));
  EXPECT_TRUE(NormalDownload(server_.stub()).ok());
  EXPECT_EQ(tracker()->Snapshot().refused_per_peer, 3u);
}

// On a Unix socket the peer is the uid the kernel reports, however many connections it opens.
TEST_F(SlowReaderAttackTest, UnixSocketPeersCountByUid) {
  // An abstract socket (the sandbox's directories are too deep for a socket path), with a name
  // no parallel run of this test shares: their PID namespaces differ, their network one not.
  ASSERT_NO_FATAL_FAILURE(
      Start(/*max_transfers=*/4, /*max_per_peer=*/1,
            absl::StrCat("unix:@framerpc-slow-reader-", ::getpid(), "-", std::random_device()())));
  DownloadRequest request;
  request.set_path("big");
  ClientContext holding;
  auto held = server_.stub()->Download(&holding, request);
  DownloadResponse header;
  ASSERT_TRUE(held->Read(&header) && header.has_header());

  auto channel = Channel::Create(address());
  ASSERT_TRUE(channel.ok()) << channel.status();
  FileService::Stub second(channel->get());
  EXPECT_TRUE(HasStatus(NormalDownload(&second), Code::kResourceExhausted,
                        absl::StrCat("too many concurrent transfers from unix uid ", ::getuid(),
                                     " (limit 1 per peer); retry later")));
  holding.TryCancel();
  EXPECT_TRUE(absl::IsCancelled(held->Finish()));
  ASSERT_TRUE(tracker()->WaitFor([](const TransferCounters& c) { return c.active == 0; }, Soon()));
  EXPECT_TRUE(NormalDownload(&second).ok());
}

// A download blocked on a client that does not read, whose deadline passes, gives its slot back
// then, without waiting for the stall timeout (a minute by default).
TEST_F(SlowReaderAttackTest, DeadlineEndsABlockedDownloadAndFreesItsSlot) {
  ASSERT_NO_FATAL_FAILURE(Start(/*max_transfers=*/1, /*max_per_peer=*/0));
  DownloadRequest request;
  request.set_path("big");
  ClientContext context;
  context.set_timeout(absl::Milliseconds(500));
  auto reader = server_.stub()->Download(&context, request);
  ASSERT_TRUE(tracker()->WaitFor(
      [](const TransferCounters& c) { return c.bytes_sent > 0 && c.active == 0; }, Soon()));
  EXPECT_EQ(reader->Finish().code(), Code::kDeadlineExceeded);
  EXPECT_TRUE(NormalDownload(server_.stub()).ok());
}

}  // namespace
}  // namespace framerpc::file

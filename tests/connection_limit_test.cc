// Connection limits: at the limit the oldest idle connection makes room (GOAWAY, then close),
// silent connections cannot lock everyone out, and a client that finds nothing idle gets a clear
// refusal (CONNECTION_ERROR RESOURCE_EXHAUSTED) instead of a silent close. Per peer as well.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "proto/echo.frpc.h"
#include "rpc/channel.h"
#include "rpc/server.h"
#include "services/echo/echo_service.h"
#include "tests/blocking_service.h"
#include "tests/raw_peer.h"
#include "tests/test_util.h"

namespace framerpc {
namespace {

using test::RawPeer;

Envelope Request(uint64_t id, const std::string& method) {
  Envelope envelope;
  envelope.set_kind(REQUEST);
  envelope.set_call_id(id);
  envelope.set_method(method);
  return envelope;
}

constexpr char kSay[] = "/framerpc.echo.EchoService/Say";
constexpr char kBlock[] = "/framerpc.test.BlockingService/Block";

class ConnectionLimitTest : public testing::Test {
 protected:
  void Start(size_t max_connections, size_t max_per_peer = 0) {
    ServerOptions options;
    options.io_threads = 1;
    options.max_connections = max_connections;
    options.max_connections_per_peer = max_per_peer;
    options.timeouts.first_byte = absl::Hours(1);  // shedding, not the timeout, makes room here
    server_ = std::make_unique<Server>(options);
    FRPC_ASSERT_OK(server_->AddService(&echo_));
    FRPC_ASSERT_OK(server_->AddService(&blocking_, ServiceOptions{.run_inline = false}));
    FRPC_ASSERT_OK(server_->AddListener("127.0.0.1:0"));
    FRPC_ASSERT_OK(server_->Start());
    address_ = server_->listen_address(0);
  }

  void TearDown() override { blocking_.Open(""); }

  RawPeer Connect() {
    auto peer = RawPeer::Connect(address_);
    EXPECT_TRUE(peer.ok()) << peer.status();
    return *std::move(peer);
  }

  // A connection from source address `source` (another loopback address).
  RawPeer ConnectFrom(const std::string& source) {
    ScopedFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in local{};
    local.sin_family = AF_INET;
    ::inet_pton(AF_INET, source.c_str(), &local.sin_addr);
    EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&local), sizeof local), 0);
    const SocketAddress server = SocketAddress::Parse(address_).value();
    EXPECT_EQ(::connect(fd.get(), server.sockaddr_ptr(), server.length()), 0);
    return RawPeer::Adopt(std::move(fd));
  }

  // A call completes on `peer` (call id `id`).
  static void ExpectServed(RawPeer& peer, uint64_t id) {
    ASSERT_TRUE(peer.SendFrame(Request(id, kSay), ""));
    absl::StatusOr<Frame> reply = peer.ReadFrame();
    ASSERT_TRUE(reply.ok()) << reply.status();
    EXPECT_EQ(reply->envelope.kind(), RESPONSE);
    EXPECT_EQ(reply->envelope.status_code(), 0);
  }

  // A call that blocks in the server, keeping `peer` busy.
  void StartBlockedCall(RawPeer& peer, int blocked_so_far) {
    ASSERT_TRUE(peer.SendFrame(Request(1, kBlock), ""));
    blocking_.WaitForStarted(blocked_so_far + 1);
  }

  static void ExpectRefused(RawPeer& peer, const std::string& message) {
    absl::StatusOr<Frame> frame = peer.ReadFrame();
    ASSERT_TRUE(frame.ok()) << frame.status();
    EXPECT_EQ(frame->envelope.kind(), CONNECTION_ERROR);
    EXPECT_EQ(frame->envelope.status_code(),
              static_cast<int>(absl::StatusCode::kResourceExhausted));
    EXPECT_EQ(frame->envelope.status_message(), message);
    EXPECT_TRUE(peer.ReadEof());
  }

  echo::EchoServiceImpl echo_;
  test::BlockingServiceImpl blocking_;
  std::unique_ptr<Server> server_;
  std::string address_;
};

TEST_F(ConnectionLimitTest, TheOldestIdleConnectionMakesRoomWithGoaway) {
  Start(/*max_connections=*/3);
  RawPeer oldest = Connect();
  ExpectServed(oldest, 1);
  RawPeer busy = Connect();
  StartBlockedCall(busy, 0);
  RawPeer idle = Connect();
  ExpectServed(idle, 7);
  RawPeer newcomer = Connect();  // the fourth: `oldest` goes
  ExpectServed(newcomer, 1);
  absl::StatusOr<Frame> goaway = oldest.ReadFrame();
  ASSERT_TRUE(goaway.ok()) << goaway.status();
  EXPECT_EQ(goaway->envelope.kind(), GOAWAY);
  EXPECT_EQ(goaway->envelope.last_call_id(), 1u);
  EXPECT_TRUE(oldest.ReadEof());
  EXPECT_EQ(server_->stats().closed(CloseReason::kLimit), 1u);
  ExpectServed(idle, 9);  // the others are untouched
  blocking_.Open("");
  absl::StatusOr<Frame> released = busy.ReadFrame();
  ASSERT_TRUE(released.ok());
  EXPECT_EQ(released->envelope.kind(), RESPONSE);
}

// The fd-exhaustion attack, at the connection limit: silent connections fill every slot, and a
// new client is still served at once (before, it was accepted and closed).
TEST_F(ConnectionLimitTest, SilentConnectionsCannotLockEveryoneOut) {
  Start(/*max_connections=*/8);
  std::vector<RawPeer> silent;
  for (int i = 0; i < 20; ++i) silent.push_back(Connect());  // each new one sheds an older one
  auto channel = Channel::Create(address_);
  ASSERT_TRUE(channel.ok());
  echo::EchoService::Stub stub(channel->get());
  ClientContext context;
  context.set_timeout(absl::Seconds(30));
  echo::SayRequest request;
  request.set_text("served");
  echo::SayReply reply;
  FRPC_EXPECT_OK(stub.Say(&context, request, &reply));
  EXPECT_EQ(reply.text(), "served");
  EXPECT_GE(server_->stats().closed(CloseReason::kLimit), 12u);
  EXPECT_LE(server_->connection_count(), 9u);  // the limit, and one being shed at most
}

TEST_F(ConnectionLimitTest, WithNothingIdleANewConnectionIsRefusedClearly) {
  Start(/*max_connections=*/2);
  RawPeer a = Connect();
  StartBlockedCall(a, 0);
  RawPeer b = Connect();
  StartBlockedCall(b, 1);
  RawPeer c = Connect();
  ExpectRefused(c, "the server is at its limit of 2 connections, none of them idle; retry later");
  EXPECT_EQ(server_->stats().closed(CloseReason::kLimit), 1u);
  blocking_.Open("");
  ASSERT_TRUE(a.ReadFrame().ok());
  ASSERT_TRUE(b.ReadFrame().ok());
  RawPeer d = Connect();  // `a` and `b` are idle now: one makes room
  ExpectServed(d, 1);
}

TEST_F(ConnectionLimitTest, PerPeerLimitShedsThePeersOwnIdleConnectionOrRefuses) {
  Start(/*max_connections=*/100, /*max_per_peer=*/2);
  RawPeer a = ConnectFrom("127.0.0.2");
  StartBlockedCall(a, 0);
  RawPeer b = ConnectFrom("127.0.0.2");
  StartBlockedCall(b, 1);
  RawPeer other = ConnectFrom("127.0.0.3");  // another peer is not affected
  ExpectServed(other, 1);
  RawPeer c = ConnectFrom("127.0.0.2");
  ExpectRefused(c, "too many connections from 127.0.0.2 (limit 2), none of them idle; retry later");
  blocking_.Open("");
  ASSERT_TRUE(a.ReadFrame().ok());
  RawPeer d = ConnectFrom("127.0.0.2");  // `a` is idle now, and goes
  ExpectServed(d, 5);
  absl::StatusOr<Frame> goaway = a.ReadFrame();
  ASSERT_TRUE(goaway.ok()) << goaway.status();
  EXPECT_EQ(goaway->envelope.kind(), GOAWAY);
  ExpectServed(other, 3);  // 127.0.0.3's connection was never a candidate
}

}  // namespace
}  // namespace framerpc

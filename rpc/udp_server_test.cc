#include "rpc/udp_server.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <functional>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rpc/dispatcher.h"
#include "services/echo/echo_service.h"
#include "transport/event_loop_thread.h"
#include "transport/frame_codec.h"
#include "base/scoped_fd.h"
#include "transport/socket_ops.h"

namespace framerpc {
namespace {

using ::testing::HasSubstr;

constexpr char kSay[] = "/framerpc.echo.EchoService/Say";

// Say reports what the handler saw ("describe"), or answers with N bytes of text ("grow:N").
class ProbeService final : public echo::EchoService::Service {
 public:
  absl::Status Say(ServerContext* context, const echo::SayRequest& request,
                   echo::SayReply* reply) override {
    int grow = 0;
    if (absl::StartsWith(request.text(), "grow:") &&
        absl::SimpleAtoi(absl::string_view(request.text()).substr(5), &grow)) {
      reply->set_text(std::string(grow, 'x'));
      return absl::OkStatus();
    }
    const absl::Time now = absl::Now();
    const absl::Time deadline = context->deadline();
    const char* deadline_text = deadline == absl::InfiniteFuture()               ? "none"
                                : deadline > now && deadline < now + absl::Minutes(1) ? "ok"
                                                                                      : "bad";
    const std::string* meta = context->FindClientMetadata("k");
    reply->set_text(absl::StrCat("peer=", context->peer(), " deadline=", deadline_text,
                                 " meta=", meta ? *meta : "-", " method=", context->method()));
    return absl::OkStatus();
  }
};

UdpServerOptions Options(size_t max_datagram_bytes, int max_datagrams_per_wake = 64) {
  UdpServerOptions options;
  options.max_datagram_bytes = max_datagram_bytes;
  options.max_datagrams_per_wake = max_datagrams_per_wake;
  return options;
}

std::string RequestFrame(uint64_t id, absl::string_view method,
                         const google::protobuf::MessageLite& request, Envelope envelope = {}) {
  envelope.set_kind(REQUEST);
  envelope.set_call_id(id);
  envelope.set_method(std::string(method));
  std::string out;
  EXPECT_TRUE(EncodeFrame(std::move(envelope), &request, {}, FrameLimits{}, &out).ok());
  return out;
}

std::string SayFrame(uint64_t id, std::string text, bool uppercase = false) {
  echo::SayRequest request;
  request.set_text(std::move(text));
  request.set_uppercase(uppercase);
  return RequestFrame(id, kSay, request);
}

// A valid Say request frame of exactly `size` bytes.
std::string SayFrameOfSize(uint64_t id, size_t size) {
  size_t text = size - 64;
  for (int i = 0; i < 8; ++i) {
    const std::string frame = SayFrame(id, std::string(text, 'a'));
    if (frame.size() == size) return frame;
    text += size - frame.size();  // Unsigned wrap-around nets out to the right adjustment.
  }
  ADD_FAILURE() << "cannot build a frame of " << size << " bytes";
  return "";
}

// A frame assembled by hand, so that its payload need not be a valid message.
std::string RawFrame(const Envelope& envelope, absl::string_view payload) {
  const std::string env = envelope.SerializeAsString();
  auto be32 = [](uint32_t v) {
    return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                       static_cast<char>(v >> 8), static_cast<char>(v)};
  };
  return absl::StrCat(absl::string_view(kFrameMagic, 4), std::string(1, '\x01'),
                      std::string(3, '\0'),
                      be32(static_cast<uint32_t>(env.size() + payload.size())),
                      be32(static_cast<uint32_t>(env.size())), env, payload);
}

// A plain UDP socket talking to the server. SO_RCVTIMEO is only a safety net against a hung test;
// it never orders anything.
class UdpClient {
 public:
  explicit UdpClient(const SocketAddress& server)
      : server_(server), fd_(::socket(server.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
    timeval timeout{10, 0};
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  }

  void Send(absl::string_view bytes) {
    const ssize_t n = ::sendto(fd_.get(), bytes.data(), bytes.size(), 0, server_.sockaddr_ptr(),
                               server_.length());
    ASSERT_EQ(n, static_cast<ssize_t>(bytes.size())) << std::strerror(errno);
  }

  // The next datagram, which must be exactly one RESPONSE frame.
  absl::StatusOr<Frame> Receive() {
    std::string buffer(1 << 17, '\0');
    const ssize_t n = ::recv(fd_.get(), buffer.data(), buffer.size(), MSG_TRUNC);
    if (n < 0) return absl::DeadlineExceededError("no reply within the safety timeout");
    if (static_cast<size_t>(n) > buffer.size()) return absl::DataLossError("reply truncated");
    Frame frame;
    const absl::string_view bytes(buffer.data(), n);
    const DecodeResult result = DecodeFrame(bytes, FrameLimits{}, &frame);
    if (result.outcome != DecodeOutcome::kFrame || result.consumed != bytes.size() ||
        frame.envelope.kind() != RESPONSE) {
      return absl::DataLossError("reply is not exactly one RESPONSE frame");
    }
    return frame;
  }

  // Sends `frame` and returns the reply, which must be for `id`.
  absl::StatusOr<Frame> Call(uint64_t id, absl::string_view frame) {
    Send(frame);
    absl::StatusOr<Frame> reply = Receive();
    if (reply.ok() && reply->envelope.call_id() != id) {
      return absl::InternalError(
          absl::StrCat("reply for call ", reply->envelope.call_id(), ", expected ", id));
    }
    return reply;
  }

  // A Say round trip that must succeed with `text` echoed: proof that the server is up and that
  // every datagram sent before was already handled (one socket to one loop keeps order).
  void ExpectSayWorks(uint64_t id, const std::string& text) {
    absl::StatusOr<Frame> reply = Call(id, SayFrame(id, text));
    ASSERT_TRUE(reply.ok()) << reply.status();
    ASSERT_EQ(reply->envelope.status_code(), 0) << reply->envelope.status_message();
    echo::SayReply say;
    ASSERT_TRUE(say.ParseFromString(std::string(reply->message_bytes())));
    EXPECT_EQ(say.text(), text);
  }

  SocketAddress local_address() const { return LocalAddress(fd_.get()); }

 private:
  SocketAddress server_;
  ScopedFd fd_;
};

// A UdpServer on its own loop thread. Members are destroyed in reverse: the server stops while
// its loop still runs.
struct Harness {
  explicit Harness(Service* service, UdpServerOptions options = {})
      : dispatcher(FrameLimits{}, /*worker_threads=*/1),
        server(loop_thread.loop(), &dispatcher, options) {
    EXPECT_TRUE(dispatcher.AddService(service).ok());
  }

  absl::Status Start(absl::string_view address) {
    absl::Status bound = server.Bind(address);
    if (!bound.ok()) return bound;
    return server.Start();
  }

  // Runs `fn` on the loop thread and waits for it. std::mutex, not absl::Notification, so that
  // ThreadSanitizer sees the synchronisation (the system abseil is not instrumented).
  void RunOnLoop(const std::function<void()>& fn) {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    loop_thread.loop()->RunInLoop([&] {
      fn();
      std::lock_guard<std::mutex> lock(mu);
      done = true;
      cv.notify_one();
    });
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&done] { return done; });
  }

  // Returns after the loop finished the event it was handling: the counters are then final for
  // every datagram whose reply has been received.
  void SyncWithLoop() { RunOnLoop([] {}); }

  EventLoopThread loop_thread;
  Dispatcher dispatcher;
  UdpServer server;
};

TEST(UdpServerTest, SayRoundTripOverIpv4) {
  echo::EchoServiceImpl echo;
  Harness h(&echo);
  ASSERT_TRUE(h.Start("127.0.0.1:0").ok());
  EXPECT_NE(h.server.local_address().port(), 0);
  UdpClient client(h.server.local_address());
  client.ExpectSayWorks(1, "Hello, datagram");
  h.SyncWithLoop();
  EXPECT_EQ(h.server.datagrams_received(), 1u);
  EXPECT_EQ(h.server.replies_sent(), 1u);
  EXPECT_EQ(h.server.dropped_malformed() + h.server.dropped_oversized(), 0u);
}

TEST(UdpServerTest, SayRoundTripOverIpv6) {
  echo::EchoServiceImpl echo;
  Harness h(&echo);
  absl::Status started = h.Start("[::1]:0");
  if (absl::IsUnavailable(started)) GTEST_SKIP() << "no IPv6 loopback: " << started;
  ASSERT_TRUE(started.ok()) << started;
  EXPECT_EQ(h.server.local_address().family(), AF_INET6);
  UdpClient client(h.server.local_address());
  client.ExpectSayWorks(1, "Hello over IPv6");
}

TEST(UdpServerTest, SayUppercases) {
  echo::EchoServiceImpl echo;
  Harness h(&echo);
  ASSERT_TRUE(h.Start("127.0.0.1:0").ok());
  UdpClient client(h.server.local_address());
  absl::StatusOr<Frame> reply = client.Call(9, SayFrame(9, "Hello, world 42", true));
  ASSERT_TRUE(reply.ok()) << reply.status();
  echo::SayReply say;
  ASSERT_TRUE(say.ParseFromString(std::string(reply->message_bytes())));
  EXPECT_EQ(say.text(), "HELLO, WORLD 42");
}

TEST(UdpServerTest, ErrorsOfWellFormedRequestsGetErrorResponses) {
  echo::EchoServiceImpl echo;
  Harness h(&echo);
  ASSERT_TRUE(h.Start("127.0.0.1:0").ok());
  UdpClient client(h.server.local_address());

  absl::StatusOr<Frame> reply =
      client.Call(1, RequestFrame(1, "/framerpc.echo.EchoService/Nope", echo::SayRequest()));
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->envelope.status_code(), static_cast<int>(absl::StatusCode::kUnimplemented));
  EXPECT_THAT(reply->envelope.status_message(), HasSubstr("/framerpc.echo.EchoService/Nope"));

  Envelope envelope;
  envelope.set_kind(REQUEST);
  envelope.set_call_id(2);
  envelope.set_method(kSay);
  reply = client.Call(2, RawFrame(envelope, "\xff\xff\xff"));
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->envelope.status_code(), static_cast<int>(absl::StatusCode::kInvalidArgument));

  envelope.set_call_id(3);
  envelope.set_timeout_us(-1);
  reply = client.Call(3, RequestFrame(3, kSay, echo::SayRequest(), envelope));
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->envelope.status_code(), static_cast<int>(absl::StatusCode::kInvalidArgument));
  h.SyncWithLoop();
  EXPECT_EQ(h.server.replies_sent(), 3u);
  EXPECT_EQ(h.server.dropped_malformed(), 0u);
}

TEST(UdpServerTest, ContextCarriesPeerDeadlineMetadataAndMethod) {
  ProbeService probe;
  Harness h(&probe);
  ASSERT_TRUE(h.Start("127.0.0.1:0").ok());
  UdpClient client(h.server.local_address());
  echo::SayRequest request;
  request.set_text("describe");

  ASSERT_TRUE(client.Call(1, RequestFrame(1, kSay, request)).ok());  // Binds the client's port.
  Envelope envelope;
  envelope.set_timeout_us(5'000'000);
  MetadataEntry* entry = envelope.add_metadata();
  entry->set_key("k");
  entry->set_value("v");
  absl::StatusOr<Frame> reply = client.Call(2, RequestFrame(2, kSay, request, envelope));
  ASSERT_TRUE(reply.ok()) << reply.status();
  echo::SayReply say;
  ASSERT_TRUE(say.ParseFromString(std::string(reply->message_bytes())));
  // The client's socket is bound to the wildcard address; the server sees loopback.
  EXPECT_EQ(say.text(), absl::StrCat("peer=127.0.0.1:", client.local_address().port(),
                                     " deadline=ok meta=v method=", kSay));
}

TEST(UdpServerTest, ReplyOverTheLimitBecomesResourceExhausted) {
  ProbeService probe;
  Harness h(&probe, Options(1024));
  ASSERT_TRUE(h.Start("127.0.0.1:0").ok());
  UdpClient client(h.server.local_address());
  echo::SayRequest request;
  request.set_text("grow:2000");
  absl::StatusOr<Frame> reply = client.Call(1, RequestFrame(1, kSay, request));
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->envelope.status_code(),
            static_cast<int>(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(reply->envelope.status_message(),
              HasSubstr("exceeds the UDP datagram limit of 1024"));

  request.set_text("grow:900");  // Fits: about 910 bytes with the frame around it.
  reply = client.Call(2, RequestFrame(2, kSay, request));
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->envelope.status_code(), 0);
}

TEST(UdpServerTest, DatagramExactlyAtTheLimitIsServedAndOneByteMoreIsDropped) {
  echo::EchoServiceImpl echo;
  Harness h(&echo, Options(1024));
  ASSERT_TRUE(h.Start("127.0.0.1:0").ok());
  UdpClient client(h.server.local_address());
  const std::string at_limit = SayFrameOfSize(1, 1024);
  ASSERT_EQ(at_limit.size(), 1024u);
  absl::StatusOr<Frame> reply = client.Call(1, at_limit);
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->envelope.status_code(), 0);

  const std::string over = SayFrameOfSize(2, 1025);
  ASSERT_EQ(over.size(), 1025u);
  client.Send(over);
  client.ExpectSayWorks(3, "still here");  // Its reply comes first: call 2 got none.
  h.SyncWithLoop();
  EXPECT_EQ(h.server.dropped_oversized(), 1u);
  EXPECT_EQ(h.server.dropped_malformed(), 0u);
  EXPECT_EQ(h.server.replies_sent(), 2u);
}

// The datagram lesson's pitfall: recvfrom() into a buffer of N bytes silently truncates a longer
// datagram to N bytes. Here the first 1024 bytes of a 2000-byte datagram are a complete, valid
// request; a server that fell into the pitfall would answer call 7.
TEST(UdpServerTest, OversizedDatagramIsDroppedNotTruncated) {
  echo::EchoServiceImpl echo;
  Harness h(&echo, Options(1024));
  ASSERT_TRUE(h.Start("127.0.0.1:0").ok());
  UdpClient client(h.server.local_address());

  const std::string valid_prefix = SayFrameOfSize(7, 1024);
  ASSERT_EQ(valid_prefix.size(), 1024u);
  client.Send(valid_prefix + std::string(2000 - 1024, 'x'));
  const std::string valid_but_big = SayFrameOfSize(8, 2000);  // A whole valid 2000-byte frame.
  ASSERT_EQ(valid_but_big.size(), 2000u);
  client.Send(valid_but_big);

  client.ExpectSayWorks(9, "after the big ones");
  h.SyncWithLoop();
  EXPECT_EQ(h.server.datagrams_received(), 3u);
  EXPECT_EQ(h.server.dropped_oversized(), 2u);
  EXPECT_EQ(h.server.dropped_malformed(), 0u);
  EXPECT_EQ(h.server.replies_sent(), 1u);
}

// With the default limit the receive buffer is 65508 bytes; IPv6 carries UDP payloads of up to
// 65527 bytes, so the kernel can hand over more than the limit.
TEST(UdpServerTest, DatagramOverTheDefaultLimitIsDroppedOverIpv6) {
  echo::EchoServiceImpl echo;
  Harness h(&echo);
  absl::Status started = h.Start("[::1]:0");
  if (absl::IsUnavailable(started)) GTEST_SKIP() << "no IPv6 loopback: " << started;
  ASSERT_TRUE(started.ok()) << started;
  UdpClient client(h.server.local_address());
  client.Send(SayFrameOfSize(1, 65527));
  // Sent alone, so that two 64 KiB datagrams never compete for the server's receive buffer.
  client.ExpectSayWorks(2, "small");
  absl::StatusOr<Frame> reply = client.Call(3, SayFrameOfSize(3, kMaxUdpPayloadBytes));
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->envelope.status_code(), 0);
  h.SyncWithLoop();
  EXPECT_EQ(h.server.dropped_oversized(), 1u);
  EXPECT_EQ(h.server.replies_sent(), 2u);
}

TEST(UdpServerTest, MalformedDatagramsAreDroppedAndCounted) {
  echo::EchoServiceImpl echo;
  Harness h(&echo);
  ASSERT_TRUE(h.Start("127.0.0.1:0").ok());
  UdpClient client(h.server.local_address());

  const std::string good = SayFrame(100, "x");
  Envelope response;
  response.set_kind(RESPONSE);
  response.set_call_id(101);
  Envelope cancel;
  cancel.set_kind(CANCEL);
  cancel.set_call_id(102);
  Envelope no_id;
  no_id.set_kind(REQUEST);
  no_id.set_method(kSay);
  std::string bad_magic = good;
  bad_magic[0] = 'X';
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"empty datagram", ""},
      {"garbage", "hello, server"},
      {"bad magic", bad_magic},
      {"truncated frame", good.substr(0, good.size() / 2)},
      {"header only", good.substr(0, kFrameHeaderSize)},
      {"two frames in one datagram", good + SayFrame(103, "y")},
      {"trailing byte", good + "!"},
      {"RESPONSE frame", RawFrame(response, "")},
      {"CANCEL frame", RawFrame(cancel, "")},
      {"call id 0", RawFrame(no_id, "")},
  };
  uint64_t next_id = 1000;
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].first);
    client.Send(cases[i].second);
    client.ExpectSayWorks(next_id++, "alive");  // No reply to the bad datagram came first.
    h.SyncWithLoop();
    EXPECT_EQ(h.server.dropped_malformed(), i + 1);
  }
  EXPECT_EQ(h.server.dropped_oversized(), 0u);
  EXPECT_EQ(h.server.replies_sent(), cases.size());
  EXPECT_EQ(h.server.datagrams_received(), 2 * cases.size());
}

TEST(UdpServerTest, BurstOfBadDatagramsSpansManyWakes) {
  echo::EchoServiceImpl echo;
  Harness h(&echo, Options(kMaxUdpPayloadBytes, 8));
  ASSERT_TRUE(h.Start("127.0.0.1:0").ok());
  UdpClient client(h.server.local_address());
  for (int i = 0; i < 100; ++i) client.Send("?");
  client.ExpectSayWorks(1, "after the burst");
  h.SyncWithLoop();
  EXPECT_EQ(h.server.dropped_malformed(), 100u);
  EXPECT_EQ(h.server.replies_sent(), 1u);
}

// Mutated requests: each is either answered once or dropped as malformed, never both, never
// silently lost, and the server survives them all.
TEST(UdpServerTest, MutatedRequestsAreAnsweredOrCountedNeverCrash) {
  echo::EchoServiceImpl echo;
  Harness h(&echo);
  ASSERT_TRUE(h.Start("127.0.0.1:0").ok());
  UdpClient client(h.server.local_address());
  std::mt19937 rng(20240607);
  const std::string seed = SayFrame(7, "mutate me", true);
  constexpr int kMutants = 300;
  uint64_t mutant_replies = 0;
  for (int i = 0; i < kMutants; ++i) {
    std::string mutant = seed;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits && !mutant.empty(); ++e) {
      const size_t at = rng() % mutant.size();
      switch (rng() % 3) {
        case 0: mutant[at] = static_cast<char>(rng()); break;
        case 1: mutant.erase(at, 1 + rng() % 4); break;
        default: mutant.resize(at); break;
      }
    }
    client.Send(mutant);
    const uint64_t probe_id = (uint64_t{1} << 40) + i;
    client.Send(SayFrame(probe_id, "probe"));
    for (;;) {
      absl::StatusOr<Frame> reply = client.Receive();
      ASSERT_TRUE(reply.ok()) << reply.status();
      if (reply->envelope.call_id() == probe_id) break;
      ++mutant_replies;
    }
  }
  h.SyncWithLoop();
  EXPECT_EQ(h.server.dropped_malformed() + mutant_replies, static_cast<uint64_t>(kMutants));
  EXPECT_EQ(h.server.replies_sent(), kMutants + mutant_replies);
  client.ExpectSayWorks(1, "survived");
}

TEST(UdpServerTest, BindAndLifecycleErrors) {
  echo::EchoServiceImpl echo;
  {
    Harness h(&echo);
    EXPECT_TRUE(absl::IsFailedPrecondition(h.server.Start()));
    EXPECT_TRUE(absl::IsInvalidArgument(h.server.Bind("unix:/tmp/framerpc-udp.sock")));
    EXPECT_TRUE(absl::IsInvalidArgument(h.server.Bind("no port")));
    ASSERT_TRUE(h.server.Bind("127.0.0.1:0").ok());
    EXPECT_TRUE(absl::IsFailedPrecondition(h.server.Bind("127.0.0.1:0")));
    ASSERT_TRUE(h.server.Start().ok());
    EXPECT_TRUE(absl::IsFailedPrecondition(h.server.Start()));
    h.server.Stop();
    h.server.Stop();
    EXPECT_TRUE(absl::IsFailedPrecondition(h.server.Start()));
  }
  for (size_t bad : {size_t{0}, kFrameHeaderSize, kMaxUdpPayloadBytes + 1}) {
    Harness h(&echo, Options(bad));
    EXPECT_TRUE(absl::IsInvalidArgument(h.server.Bind("127.0.0.1:0"))) << bad;
  }
}

TEST(UdpServerTest, StartAndStopOnTheLoopThread) {
  echo::EchoServiceImpl echo;
  Harness h(&echo);
  ASSERT_TRUE(h.server.Bind("127.0.0.1:0").ok());
  h.RunOnLoop([&h] { EXPECT_TRUE(h.server.Start().ok()); });
  UdpClient client(h.server.local_address());
  client.ExpectSayWorks(1, "loop-thread start");
  h.RunOnLoop([&h] { h.server.Stop(); });
}

}  // namespace
}  // namespace framerpc

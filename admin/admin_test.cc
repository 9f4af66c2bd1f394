// The admin pages of a real server (calls made, one in flight), served over real sockets on their
// own port and on the RPC port, and every way a request is refused.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "admin/admin_http.h"
#include "admin/admin_pages.h"
#include "base/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "metrics/exposition.h"
#include "metrics/rpc_metrics.h"
#include "proto/echo.frpc.h"
#include "rpc/channel.h"
#include "rpc/server.h"
#include "services/auth/shared_secret.h"
#include "transport/socket_address.h"
#include "transport/socket_ops.h"

namespace framerpc::admin {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// Say("block") waits until Release(); other texts are echoed at once.
class BlockingEcho final : public echo::EchoService::Service {
 public:
  absl::Status Say(ServerContext*, const echo::SayRequest& request,
                   echo::SayReply* reply) override {
    if (request.text() == "block") {
      blocked_.Notify();
      release_.WaitForNotification();
    }
    reply->set_text(request.text());
    return absl::OkStatus();
  }
  absl::Status Bytes(ServerContext*, const echo::BytesRequest&, echo::BytesReply*) override {
    return absl::OkStatus();
  }
  Notification blocked_;
  Notification release_;
};

struct Response {
  int status = 0;
  std::string head;
  std::string body;
  bool closed_without_response = false;
};

// Connects to `address` ("127.0.0.1:port"), sends `request` in pieces of `piece` bytes, and
// reads one whole response (by its Content-Length), or until the server closes.
Response Exchange(const std::string& address, const std::string& request, size_t piece = 0) {
  Response response;
  absl::StatusOr<ScopedFd> fd = ConnectBlocking(SocketAddress::Parse(address).value());
  EXPECT_TRUE(fd.ok()) << fd.status();
  if (!fd.ok()) return response;
  const int s = fd->get();
  timeval timeout{30, 0};  // a bound on a broken server, not a synchronisation
  ::setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  const int one = 1;
  ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (piece == 0) piece = request.size();
  for (size_t at = 0; at < request.size(); at += piece) {
    const std::string part = request.substr(at, piece);
    if (::send(s, part.data(), part.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(part.size())) {
      break;  // the server answered early and closed; read what it said
    }
  }
  std::string got;
  char buffer[16384];
  size_t need = std::string::npos;
  while (got.size() < need) {
    const ssize_t n = ::recv(s, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    got.append(buffer, n);
    const size_t end = got.find("\r\n\r\n");
    if (need == std::string::npos && end != std::string::npos) {
      const size_t length_at = got.find("Content-Length: ");
      size_t length = 0;
      if (length_at != std::string::npos && length_at < end) {
        const size_t eol = got.find("\r\n", length_at);
        (void)absl::SimpleAtoi(got.substr(length_at + 16, eol - length_at - 16), &length);
      }
      need = request.rfind("HEAD ", 0) == 0 ? end + 4 : end + 4 + length;
    }
  }
  const size_t end = got.find("\r\n\r\n");
  if (got.size() < 12 || end == std::string::npos) {
    response.closed_without_response = true;
    return response;
  }
  (void)absl::SimpleAtoi(got.substr(9, 3), &response.status);
  response.head = got.substr(0, end + 4);
  response.body = got.substr(end + 4);
  return response;
}

std::string Get(absl::string_view path, absl::string_view extra_headers = "") {
  return absl::StrCat("GET ", path, " HTTP/1.1\r\nHost: x\r\n", extra_headers, "\r\n");
}

class AdminTest : public testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.io_threads = 1;
    options.observer = &rpc_;
    server_ = std::make_unique<Server>(options);
    ASSERT_TRUE(server_->AddService(&echo_, ServiceOptions{.run_inline = false}).ok());
    ASSERT_TRUE(server_->AddListener("127.0.0.1:0").ok());
    exposition_.Add(&rpc_);
    AdminSources sources;
    sources.exposition = &exposition_;
    sources.rpc = &rpc_;
    sources.server = server_.get();
    sources.ready = [this] { return ready_.load(); };
    sources.flags = [] {
      return std::vector<std::pair<std::string, std::string>>{{"listen", "127.0.0.1:0"},
                                                              {"odd", "<script>&"}};
    };
    sources.version = "framerpc test";
    pages_ = std::make_unique<AdminPages>(std::move(sources));
    AdminHttpOptions http_options;
    http_options.head_timeout = absl::Milliseconds(300);
    http_ = std::make_unique<AdminHttpServer>(pages_.get(), http_options);
    ASSERT_TRUE(http_->Listen("127.0.0.1:0").ok());
    Server::ForeignProtocol http1;
    http1.name = "http1";
    http1.match = MatchHttp1;
    http1.handler = [this](ScopedFd fd, const SocketAddress& peer) {
      http_->Adopt(std::move(fd), peer);
    };
    ASSERT_TRUE(server_->AddForeignProtocol(std::move(http1)).ok());
    ASSERT_TRUE(server_->Start().ok());
    channel_ = Channel::Create(server_->listen_address(0)).value();
    stub_ = std::make_unique<echo::EchoService::Stub>(channel_.get());
  }

  void TearDown() override {
    echo_.release_.Notify();
    if (caller_.joinable()) caller_.join();
    stub_.reset();
    channel_.reset();
    http_.reset();
    pages_.reset();
    server_->Shutdown(absl::Seconds(10));
  }

  absl::Status Say(const std::string& text) {
    ClientContext context;
    context.set_timeout(absl::Seconds(30));
    echo::SayRequest request;
    request.set_text(text);
    echo::SayReply reply;
    return stub_->Say(&context, request, &reply);
  }

  // A call that stays in flight until TearDown.
  void BlockOneCall() {
    caller_ = std::thread([this] { (void)Say("block"); });
    echo_.blocked_.WaitForNotification();
  }

  metrics::RpcMetrics rpc_;
  metrics::Exposition exposition_;
  BlockingEcho echo_;
  std::atomic<bool> ready_{true};
  std::unique_ptr<Server> server_;
  std::unique_ptr<AdminPages> pages_;
  std::unique_ptr<AdminHttpServer> http_;
  std::unique_ptr<Channel> channel_;
  std::unique_ptr<echo::EchoService::Stub> stub_;
  std::thread caller_;
};

TEST_F(AdminTest, MetricsOnTheAdminPortCountTheCalls) {
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Say("hello").ok());
  const Response r = Exchange(http_->listen_address(), Get("/metrics"));
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.head, HasSubstr("Content-Type: text/plain; version=0.0.4"));
  EXPECT_THAT(r.head, HasSubstr("Connection: close"));
  EXPECT_THAT(r.body, HasSubstr("grpc_server_handled_total{grpc_code=\"OK\",grpc_method=\"Say\","
                                "grpc_service=\"framerpc.echo.EchoService\",grpc_type=\"unary\","
                                "transport=\"framed\"} 3"));
}

TEST_F(AdminTest, TheRpcPortServesThePagesAndCallsAlike) {
  const std::string rpc_port = server_->listen_address(0);
  ASSERT_TRUE(Say("before").ok());
  const Response r = Exchange(rpc_port, Get("/healthz"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok: serving\n");
  EXPECT_THAT(Exchange(rpc_port, Get("/metrics")).body, HasSubstr("grpc_server_started_total"));
  ASSERT_TRUE(Say("after").ok());
}

TEST_F(AdminTest, ARequestSentAByteAtATimeIsAnswered) {
  const Response r = Exchange(http_->listen_address(), Get("/version"), 1);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "framerpc test\n");
  const Response shared = Exchange(server_->listen_address(0), Get("/version"), 1);
  EXPECT_EQ(shared.status, 200);
  EXPECT_EQ(shared.body, "framerpc test\n");
}

TEST_F(AdminTest, HeadAnswersWithoutTheBody) {
  const Response r = Exchange(http_->listen_address(), "HEAD /version HTTP/1.1\r\n\r\n");
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.head, HasSubstr("Content-Length: 14\r\n"));
  EXPECT_EQ(r.body, "");
}

TEST_F(AdminTest, ReadinessFollowsTheServerAndLivenessDoesNot) {
  EXPECT_EQ(Exchange(http_->listen_address(), Get("/readyz")).status, 200);
  ready_ = false;
  const Response readyz = Exchange(http_->listen_address(), Get("/readyz"));
  EXPECT_EQ(readyz.status, 503);
  EXPECT_EQ(readyz.body, "NOT_SERVING\n");
  const Response healthz = Exchange(http_->listen_address(), Get("/healthz"));
  EXPECT_EQ(healthz.status, 200);
  EXPECT_THAT(healthz.body, HasSubstr("not serving"));
}

TEST_F(AdminTest, StatusConnectionsAndCallsShowTheCallInFlight) {
  ASSERT_TRUE(Say("one").ok());
  BlockOneCall();
  const Response calls = Exchange(http_->listen_address(), Get("/calls"));
  EXPECT_EQ(calls.status, 200);
  EXPECT_THAT(calls.body, HasSubstr("EchoService/Say"));
  EXPECT_THAT(calls.body, HasSubstr("127.0.0.1:"));

  const Response connections = Exchange(http_->listen_address(), Get("/connections"));
  EXPECT_EQ(connections.status, 200);
  EXPECT_THAT(connections.body, HasSubstr("# connections\npeer"));
  // One framed connection (the channel's), with one call in flight; the page's own request came
  // to the admin port and is not a framed connection.
  EXPECT_THAT(connections.body, HasSubstr("local"));
  EXPECT_EQ(server_->Connections().size(), 1u);
  EXPECT_EQ(server_->Connections()[0].calls_in_flight, 1u);
  EXPECT_GT(server_->Connections()[0].bytes_received, 0u);
  EXPECT_GT(server_->Connections()[0].bytes_sent, 0u);

  const Response status = Exchange(http_->listen_address(), Get("/status"));
  EXPECT_EQ(status.status, 200);
  // Say: one call completed in the window and one in flight.
  EXPECT_THAT(status.body, HasSubstr("framerpc.echo.EchoService  Say"));
  const std::vector<MethodSummary> summary = StatusWindow(&rpc_).Summary();
  ASSERT_EQ(summary.size(), 1u);
  EXPECT_EQ(summary[0].in_flight, 1u);

  // Once the call has ended (its reply is sent and the call retired in one task of the
  // connection's I/O thread, before the page's visit there), it is gone from /calls.
  echo_.release_.Notify();
  caller_.join();
  const Response after = Exchange(http_->listen_address(), Get("/calls"));
  EXPECT_EQ(after.status, 200);
  EXPECT_THAT(after.body, Not(HasSubstr("EchoService/Say")));
}

TEST_F(AdminTest, HtmlWhenAskedWithCellsEscaped) {
  const Response r = Exchange(http_->listen_address(), Get("/flags", "Accept: text/html\r\n"));
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.head, HasSubstr("Content-Type: text/html"));
  EXPECT_THAT(r.body, StartsWith("<!DOCTYPE html>"));
  EXPECT_THAT(r.body, HasSubstr("<td>&lt;script&gt;&amp;</td>"));
  EXPECT_THAT(r.body, Not(HasSubstr("<script>")));
  const Response text = Exchange(http_->listen_address(), Get("/flags"));
  EXPECT_THAT(text.body, HasSubstr("odd     <script>&"));
}

TEST_F(AdminTest, UnknownPagesAndMethodsAreRefused) {
  const Response missing = Exchange(http_->listen_address(), Get("/nope"));
  EXPECT_EQ(missing.status, 404);
  EXPECT_THAT(missing.body, HasSubstr("no page /nope"));
  const Response post = Exchange(http_->listen_address(), "POST /metrics HTTP/1.1\r\n\r\n");
  EXPECT_EQ(post.status, 405);
  EXPECT_THAT(post.head, HasSubstr("Allow: GET, HEAD"));
  EXPECT_EQ(Exchange(http_->listen_address(), "GET nonsense\r\n\r\n").status, 400);
  EXPECT_EQ(Exchange(http_->listen_address(), "GET / HTTP/3.0\r\n\r\n").status, 505);
  EXPECT_GE(http_->refused(), 4u);
}

TEST_F(AdminTest, AHeadThatNeverEndsIsAnswered408) {
  // The head is never finished: the server answers when head_timeout (300 ms) passes.
  const Response r = Exchange(http_->listen_address(), "GET /metrics HTTP/1.1\r\nHost: x\r\n");
  EXPECT_EQ(r.status, 408);
  // On the RPC port too, once the sniffer has handed it over.
  EXPECT_EQ(Exchange(server_->listen_address(0), "GET /metrics HTTP/1.1\r\n").status, 408);
  ASSERT_TRUE(Say("still serving").ok());
}

TEST_F(AdminTest, AnOversizedHeadIsAnswered431WithoutBeingKept) {
  std::string huge = "GET / HTTP/1.1\r\nX: ";
  huge.append(64 << 10, 'a');
  const Response r = Exchange(http_->listen_address(), huge);
  EXPECT_EQ(r.status, 431);
}

TEST(AdminHttpLimitTest, ConnectionsBeyondTheLimitAre503) {
  AdminPages pages(AdminSources{});
  AdminHttpOptions options;
  options.max_connections = 2;
  options.head_timeout = absl::Seconds(60);  // the idle ones must stay while the third comes
  AdminHttpServer http(&pages, options);
  ASSERT_TRUE(http.Listen("127.0.0.1:0").ok());
  const SocketAddress address = SocketAddress::Parse(http.listen_address()).value();
  // Two idle connections, accepted (in order, on the admin loop) before the third.
  ScopedFd idle1 = ConnectBlocking(address).value();
  ScopedFd idle2 = ConnectBlocking(address).value();
  const Response third = Exchange(http.listen_address(), Get("/version"));
  EXPECT_EQ(third.status, 503);
  EXPECT_THAT(third.body, HasSubstr("too many admin connections"));
  EXPECT_EQ(http.refused(), 1u);
  // The destructor closes the idle connections.
}

// A handler run inline that blocks holds its I/O thread: the pages report its connections as
// not shown instead of waiting for them (the renderer, and every later page, would hang).
TEST(AdminBusyLoopTest, ConnectionsOfABlockedIoThreadAreReportedNotAwaited) {
  ServerOptions options;
  options.io_threads = 1;
  Server server(options);
  BlockingEcho inline_echo;
  ASSERT_TRUE(server.AddService(&inline_echo).ok());  // run_inline: the default
  ASSERT_TRUE(server.AddListener("127.0.0.1:0").ok());
  ASSERT_TRUE(server.Start().ok());
  auto channel = Channel::Create(server.listen_address(0)).value();
  echo::EchoService::Stub stub(channel.get());
  std::thread caller([&] {
    ClientContext context;
    echo::SayRequest request;
    request.set_text("block");
    echo::SayReply reply;
    (void)stub.Say(&context, request, &reply);
  });
  inline_echo.blocked_.WaitForNotification();
  size_t unanswered = 0;
  EXPECT_TRUE(server.Connections(absl::Milliseconds(50), &unanswered).empty());
  EXPECT_EQ(unanswered, 1u);
  AdminSources sources;
  sources.server = &server;
  AdminPages pages(std::move(sources));
  HttpRequest calls;
  calls.method = "GET";
  calls.path = "/calls";
  PeerIdentity local;
  local.local = true;
  EXPECT_THAT(pages.Handle(calls, local).body,
              HasSubstr("1 connection(s) not shown: their I/O thread did not answer"));
  inline_echo.release_.Notify();
  caller.join();
  EXPECT_EQ(server.Connections(absl::Seconds(30), &unanswered).size(), 1u);
  EXPECT_EQ(unanswered, 0u);
  channel.reset();
  server.Shutdown(absl::Seconds(10));
}

TEST(MatchHttp1Test, RecognisesGetAndHeadFromTheirFirstBytes) {
  EXPECT_EQ(MatchHttp1("G"), Server::ProtocolMatch::kNeedMore);
  EXPECT_EQ(MatchHttp1("GET"), Server::ProtocolMatch::kNeedMore);
  EXPECT_EQ(MatchHttp1("GET /"), Server::ProtocolMatch::kMatch);
  EXPECT_EQ(MatchHttp1("HEA"), Server::ProtocolMatch::kNeedMore);
  EXPECT_EQ(MatchHttp1("HEAD /x"), Server::ProtocolMatch::kMatch);
  EXPECT_EQ(MatchHttp1("GETX"), Server::ProtocolMatch::kNoMatch);
  EXPECT_EQ(MatchHttp1("POST / HTTP/1.1"), Server::ProtocolMatch::kNoMatch);
  EXPECT_EQ(MatchHttp1("PRI * HTTP/2.0"), Server::ProtocolMatch::kNoMatch);
}

TEST(AdminPagesTest, RemotePeersGetOnlyTheProbesWithoutTheToken) {
  const auth::SharedSecret token = auth::SharedSecret::FromToken("0123456789abcdef0123").value();
  PeerIdentity remote;
  remote.local = false;
  HttpRequest status;
  status.method = "GET";
  status.path = "/status";
  HttpRequest metrics = status;
  metrics.path = "/metrics";

  AdminPages no_token(AdminSources{});
  EXPECT_EQ(no_token.Handle(metrics, remote).status, 200);
  EXPECT_EQ(no_token.Handle(status, remote).status, 403);
  PeerIdentity local;
  local.local = true;
  EXPECT_EQ(no_token.Handle(status, local).status, 200);

  AdminSources sources;
  sources.token = &token;
  AdminPages with_token(std::move(sources));
  EXPECT_EQ(with_token.Handle(status, remote).status, 401);
  status.headers.emplace_back("authorization", "Bearer wrong-token-wrong-token");
  EXPECT_EQ(with_token.Handle(status, remote).status, 401);
  status.headers[0].second = "Bearer 0123456789abcdef0123";
  EXPECT_EQ(with_token.Handle(status, remote).status, 200);
}

}  // namespace
}  // namespace framerpc::admin

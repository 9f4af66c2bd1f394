#include "cli/stats_command.h"

#include <sstream>
#include <string>
#include <vector>

#include "admin/admin_http.h"
#include "admin/admin_pages.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "metrics/exposition.h"
#include "metrics/rpc_metrics.h"
#include "proto/echo.frpc.h"
#include "rpc/channel.h"
#include "rpc/server.h"
#include "services/echo/echo_service.h"
#include "transport/socket_address.h"
#include "transport/socket_ops.h"

namespace framerpc::cli {
namespace {

using ::testing::HasSubstr;

class StatsCommandTest : public testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.io_threads = 1;
    options.observer = &rpc_;
    server_ = std::make_unique<Server>(options);
    ASSERT_TRUE(server_->AddService(&echo_).ok());
    ASSERT_TRUE(server_->AddListener("127.0.0.1:0").ok());
    exposition_.Add(&rpc_);
    admin::AdminSources sources;
    sources.exposition = &exposition_;
    sources.rpc = &rpc_;
    sources.server = server_.get();
    sources.version = "framerpc stats test";
    pages_ = std::make_unique<admin::AdminPages>(std::move(sources));
    http_ = std::make_unique<admin::AdminHttpServer>(pages_.get());
    ASSERT_TRUE(http_->Listen("127.0.0.1:0").ok());
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override {
    http_.reset();
    pages_.reset();
    server_->Shutdown(absl::Seconds(10));
  }

  absl::Status Stats(std::vector<std::string> args, std::string* text) {
    std::ostringstream out;
    absl::Status status = RunStats(CliOptions(), args, out);
    *text = out.str();
    return status;
  }

  metrics::RpcMetrics rpc_;
  metrics::Exposition exposition_;
  echo::EchoServiceImpl echo_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<admin::AdminPages> pages_;
  std::unique_ptr<admin::AdminHttpServer> http_;
};

TEST_F(StatsCommandTest, PrintsTheStatusSummaryAfterCalls) {
  auto channel = Channel::Create(server_->listen_address(0)).value();
  echo::EchoService::Stub stub(channel.get());
  for (int i = 0; i < 4; ++i) {
    ClientContext context;
    echo::SayReply reply;
    ASSERT_TRUE(stub.Say(&context, echo::SayRequest(), &reply).ok());
  }
  std::string text;
  ASSERT_TRUE(Stats({http_->listen_address()}, &text).ok());
  EXPECT_THAT(text, HasSubstr("# methods, last minute"));
  EXPECT_THAT(text, HasSubstr("calls/s"));
  EXPECT_THAT(text, HasSubstr("framerpc.echo.EchoService  Say"));
  ASSERT_TRUE(Stats({http_->listen_address(), "version"}, &text).ok());
  EXPECT_EQ(text, "framerpc stats test\n");
}

TEST_F(StatsCommandTest, EachFailureHasItsCode) {
  std::string text;
  EXPECT_EQ(Stats({http_->listen_address(), "nope"}, &text).code(), absl::StatusCode::kNotFound);
  // The RPC port of a server without --admin_on_rpc_port answers framerpc, not HTTP.
  const absl::Status framed = Stats({server_->listen_address(0)}, &text);
  EXPECT_EQ(framed.code(), absl::StatusCode::kFailedPrecondition) << framed;
  EXPECT_THAT(std::string(framed.message()), HasSubstr("--admin_on_rpc_port"));
  EXPECT_EQ(Stats({}, &text).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Stats({"a", "b", "c"}, &text).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Stats({"not an address"}, &text).code(), absl::StatusCode::kInvalidArgument);
  // Nothing listening: a port bound and closed again.
  std::string closed;
  {
    ScopedFd fd = Listen(SocketAddress::Parse("127.0.0.1:0").value(), 1).value();
    sockaddr_storage storage{};
    socklen_t length = sizeof storage;
    ASSERT_EQ(::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&storage), &length), 0);
    closed = SocketAddress::FromSockaddr(reinterpret_cast<sockaddr*>(&storage), length).ToString();
  }
  EXPECT_EQ(Stats({closed}, &text).code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(text.empty());
}

}  // namespace
}  // namespace framerpc::cli

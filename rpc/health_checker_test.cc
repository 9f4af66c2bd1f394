// Active health checks of a BalancedChannel (rpc/health_checker.h) against real servers on
// loopback whose grpc.health.v1 status the tests flip.
#include "rpc/health_checker.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/health/health_service.h"
#include "gtest/gtest.h"
#include "proto/echo.frpc.h"
#include "rpc/balanced_channel.h"
#include "rpc/server.h"

namespace framerpc {
namespace {

constexpr char kEcho[] = "framerpc.echo.EchoService";

// Answers Say with its own name.
class NamedEcho final : public echo::EchoService::Service {
 public:
  explicit NamedEcho(std::string name) : name_(std::move(name)) {}
  absl::Status Say(ServerContext*, const echo::SayRequest&, echo::SayReply* reply) override {
    reply->set_text(name_);
    return absl::OkStatus();
  }

 private:
  const std::string name_;
};

// A server with a NamedEcho and, unless `with_health` is false, a HealthService (all SERVING).
struct Backend {
  Backend(const std::string& name, bool with_health) : echo(name) {
    ServerOptions options;
    options.io_threads = 1;
    options.worker_threads = 2;
    server = std::make_unique<Server>(options);
    EXPECT_TRUE(server->AddService(&echo).ok());
    if (with_health) {
      EXPECT_TRUE(server->AddService(&health, {.run_inline = false}).ok());
    }
    EXPECT_TRUE(server->AddListener("127.0.0.1:0").ok());
    EXPECT_TRUE(server->Start().ok());
    health.SetServingForAll(*server->dispatcher());
    address = server->listen_address(0);
  }
  ~Backend() { server->Shutdown(absl::Seconds(2)); }
  NamedEcho echo;
  HealthService health;
  std::unique_ptr<Server> server;
  std::string address;
};

std::string Who(Channel* channel) {
  echo::EchoService::Stub stub(channel);
  ClientContext context;
  context.set_timeout(absl::Seconds(10));
  echo::SayReply reply;
  absl::Status status = stub.Say(&context, echo::SayRequest(), &reply);
  return status.ok() ? reply.text() : absl::StatusCodeToString(status.code());
}

std::map<std::string, int> Spread(Channel* channel, int calls) {
  std::map<std::string, int> counts;
  for (int i = 0; i < calls; ++i) ++counts[Who(channel)];
  return counts;
}

std::unique_ptr<BalancedChannel> Open(const std::vector<const Backend*>& backends,
                                      const std::string& service_config) {
  std::string list;
  for (const Backend* b : backends) absl::StrAppend(&list, list.empty() ? "" : ",", b->address);
  ChannelOptions options;
  options.load_balancing = "round_robin";
  options.service_config = service_config;
  options.health_check_interval = absl::Milliseconds(20);
  absl::StatusOr<std::unique_ptr<Channel>> channel = Channel::Create(list, options);
  EXPECT_TRUE(channel.ok()) << channel.status();
  if (!channel.ok()) return nullptr;
  auto* balanced = dynamic_cast<BalancedChannel*>(channel->get());
  EXPECT_NE(balanced, nullptr);
  if (balanced == nullptr) return nullptr;
  channel->release();
  return std::unique_ptr<BalancedChannel>(balanced);
}

std::string CheckConfig(const std::string& service) {
  return absl::StrCat(R"({"healthCheckConfig": {"serviceName": ")", service, R"("}})");
}

absl::Time Soon() { return absl::Now() + absl::Seconds(10); }

TEST(HealthCheckTest, ANotServingServerGetsNoCallsUntilItServesAgain) {
  Backend s0("s0", true), s1("s1", true), s2("s2", true);
  std::unique_ptr<BalancedChannel> channel = Open({&s0, &s1, &s2}, CheckConfig(kEcho));
  ASSERT_NE(channel, nullptr);
  for (const Backend* b : {&s0, &s1, &s2}) {
    ASSERT_TRUE(channel->WaitForHealth(b->address, true, Soon())) << b->address;
  }
  EXPECT_EQ(Spread(channel.get(), 30), (std::map<std::string, int>{{"s0", 10}, {"s1", 10},
                                                                   {"s2", 10}}));

  s1.health.SetServingStatus(kEcho, HealthService::kNotServing);
  ASSERT_TRUE(channel->WaitForHealth(s1.address, false, Soon()));
  EXPECT_EQ(Spread(channel.get(), 30), (std::map<std::string, int>{{"s0", 15}, {"s2", 15}}));

  s1.health.SetServingStatus(kEcho, HealthService::kServing);
  ASSERT_TRUE(channel->WaitForHealth(s1.address, true, Soon()));
  EXPECT_EQ(Spread(channel.get(), 30)["s1"], 10);
}

TEST(HealthCheckTest, TheWholeServerNameChecksTheServerAsAWhole) {
  Backend s0("s0", true), s1("s1", true);
  std::unique_ptr<BalancedChannel> channel = Open({&s0, &s1}, CheckConfig(""));
  ASSERT_NE(channel, nullptr);
  s0.health.Shutdown();  // as a draining server does: every name NOT_SERVING
  ASSERT_TRUE(channel->WaitForHealth(s0.address, false, Soon()));
  EXPECT_EQ(Spread(channel.get(), 10), (std::map<std::string, int>{{"s1", 10}}));
}

TEST(HealthCheckTest, OffByDefault) {
  Backend s0("s0", true), s1("s1", true);
  s1.health.SetServingStatus(kEcho, HealthService::kNotServing);
  std::unique_ptr<BalancedChannel> channel = Open({&s0, &s1}, "");
  ASSERT_NE(channel, nullptr);
  EXPECT_EQ(Spread(channel.get(), 10), (std::map<std::string, int>{{"s0", 5}, {"s1", 5}}));
  EXPECT_FALSE(channel->WaitForHealth(s1.address, false, absl::Now()));
}

TEST(HealthCheckTest, AServerWithoutAHealthServiceKeepsItsCalls) {
  Backend s0("s0", true), bare("bare", false);
  std::unique_ptr<BalancedChannel> channel = Open({&s0, &bare}, CheckConfig(kEcho));
  ASSERT_NE(channel, nullptr);
  ASSERT_TRUE(channel->WaitForHealth(bare.address, true, Soon()));  // UNIMPLEMENTED
  EXPECT_EQ(Spread(channel.get(), 10), (std::map<std::string, int>{{"bare", 5}, {"s0", 5}}));
}

TEST(HealthCheckTest, AnUnknownServiceNameIsNotServing) {
  Backend s0("s0", true), s1("s1", true);
  std::unique_ptr<BalancedChannel> channel = Open({&s0, &s1}, CheckConfig("no.such.Service"));
  ASSERT_NE(channel, nullptr);
  ASSERT_TRUE(channel->WaitForHealth(s0.address, false, Soon()));  // NOT_FOUND
  ASSERT_TRUE(channel->WaitForHealth(s1.address, false, Soon()));
  // Every endpoint passed over: the balancer still picks one, so calls are not failed here.
  EXPECT_EQ(Spread(channel.get(), 4).size(), 2u);
}

TEST(HealthCheckTest, VerdictTable) {
  EXPECT_EQ(HealthChecker::Verdict(absl::OkStatus(), 1), 1);  // SERVING
  EXPECT_EQ(HealthChecker::Verdict(absl::OkStatus(), 2), 0);  // NOT_SERVING
  EXPECT_EQ(HealthChecker::Verdict(absl::OkStatus(), 0), 0);  // UNKNOWN
  EXPECT_EQ(HealthChecker::Verdict(absl::NotFoundError("x"), 0), 0);
  EXPECT_EQ(HealthChecker::Verdict(absl::UnimplementedError("x"), 0), 1);
  EXPECT_EQ(HealthChecker::Verdict(absl::UnavailableError("x"), 0), -1);
  EXPECT_EQ(HealthChecker::Verdict(absl::DeadlineExceededError("x"), 0), -1);
}

TEST(HealthCheckTest, ABadHealthCheckConfigIsRefused) {
  for (const char* bad : {R"({"healthCheckConfig": 5})",
                          R"({"healthCheckConfig": {"serviceName": 3}})"}) {
    ChannelOptions options;
    options.service_config = bad;
    EXPECT_EQ(Channel::Create("ipv4:127.0.0.1:1", options).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
  ChannelOptions options;
  options.service_config = CheckConfig("");
  options.health_check_interval = absl::ZeroDuration();
  EXPECT_EQ(Channel::Create("ipv4:127.0.0.1:1", options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace framerpc

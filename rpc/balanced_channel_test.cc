// Channels over several servers: targets, each balancer over real servers on loopback,
// failover when a server goes away, dns: over /etc/hosts' localhost, and streams.
#include "rpc/balanced_channel.h"

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/health/health.frpc.h"
#include "services/health/health_service.h"
#include "base/notification.h"
#include "gtest/gtest.h"
#include "proto/echo.frpc.h"
#include "rpc/server.h"
#include "rpc/target.h"

namespace framerpc {
namespace {

// Answers Say with its own name; blocks while `hold` is set, until it is notified.
class NamedEcho final : public echo::EchoService::Service {
 public:
  explicit NamedEcho(std::string name) : name_(std::move(name)) {}
  absl::Status Say(ServerContext*, const echo::SayRequest& request,
                   echo::SayReply* reply) override {
    if (request.text() == "hold") {
      entered_.Notify();
      release_.WaitForNotification();
    }
    reply->set_text(name_);
    return absl::OkStatus();
  }
  Notification entered_;
  Notification release_;

 private:
  const std::string name_;
};

// Fails Say with `code` until it has failed `failures` times, then answers "ok".
class FlakyEcho final : public echo::EchoService::Service {
 public:
  FlakyEcho(int failures, absl::StatusCode code) : failures_(failures), code_(code) {}
  absl::Status Say(ServerContext*, const echo::SayRequest&, echo::SayReply* reply) override {
    const int n = calls_.fetch_add(1);
    if (n < failures_) return absl::Status(code_, "flaky");
    reply->set_text("ok");
    return absl::OkStatus();
  }
  int calls() const { return calls_.load(); }

 private:
  const int failures_;
  const absl::StatusCode code_;
  std::atomic<int> calls_{0};
};

// A server with one service, on 127.0.0.1:0.
std::unique_ptr<Server> Serve(Service* service) {
  ServerOptions options;
  options.io_threads = 1;
  options.worker_threads = 1;
  auto server = std::make_unique<Server>(options);
  EXPECT_TRUE(server->AddService(service).ok());
  EXPECT_TRUE(server->AddListener("127.0.0.1:0").ok());
  EXPECT_TRUE(server->Start().ok());
  return server;
}

constexpr char kRetrySay[] = R"({"methodConfig": [{
    "name": [{"service": "framerpc.echo.EchoService", "method": "Say"}],
    "retryPolicy": {"maxAttempts": 3, "initialBackoff": "0.001s", "maxBackoff": "0.01s",
                    "backoffMultiplier": 2, "retryableStatusCodes": ["UNAVAILABLE"]}}]})";

class Backends {
 public:
  explicit Backends(int n) {
    for (int i = 0; i < n; ++i) {
      auto echo = std::make_unique<NamedEcho>(absl::StrCat("s", i));
      auto health = std::make_unique<HealthService>();
      ServerOptions options;
      options.io_threads = 1;
      options.worker_threads = 2;
      auto server = std::make_unique<Server>(options);
      EXPECT_TRUE(server->AddService(echo.get(), {.run_inline = false}).ok());
      EXPECT_TRUE(server->AddService(health.get(), {.run_inline = false}).ok());
      EXPECT_TRUE(server->AddListener("127.0.0.1:0").ok());
      EXPECT_TRUE(server->Start().ok());
      health->SetServingForAll(*server->dispatcher());
      addresses_.push_back(server->listen_address(0));
      echoes_.push_back(std::move(echo));
      healths_.push_back(std::move(health));
      servers_.push_back(std::move(server));
    }
  }
  ~Backends() {
    for (auto& echo : echoes_) echo->release_.Notify();
    for (auto& server : servers_) {
      if (server != nullptr) server->Shutdown(absl::Seconds(2));
    }
  }
  std::string List() const {
    std::string out;
    for (const std::string& a : addresses_) absl::StrAppend(&out, out.empty() ? "" : ",", a);
    return out;
  }
  void Stop(int i) {
    servers_[i]->Shutdown(absl::Seconds(2));
    servers_[i].reset();
  }
  NamedEcho& echo(int i) { return *echoes_[i]; }
  const std::string& address(int i) const { return addresses_[i]; }

 private:
  std::vector<std::string> addresses_;
  std::vector<std::unique_ptr<NamedEcho>> echoes_;
  std::vector<std::unique_ptr<HealthService>> healths_;
  std::vector<std::unique_ptr<Server>> servers_;
};

// Which server answered, or the error's code name.
std::string Who(Channel* channel, const std::string& text = "hi", const std::string& key = "") {
  echo::EchoService::Stub stub(channel);
  ClientContext context;
  context.set_timeout(absl::Seconds(10));
  if (!key.empty()) context.AddMetadata("user", key);
  echo::SayRequest request;
  request.set_text(text);
  echo::SayReply reply;
  absl::Status status = stub.Say(&context, request, &reply);
  return status.ok() ? reply.text() : absl::StatusCodeToString(status.code());
}

// A Say through the asynchronous stub, started now and awaited later.
class AsyncSay {
 public:
  AsyncSay(Channel* channel, const std::string& text) : stub_(channel) {
    echo::SayRequest request;
    request.set_text(text);
    stub_.SayAsync(&context_, request, &reply_, [this](absl::Status status) {
      status_ = std::move(status);
      done_.Notify();
    });
  }
  absl::Status Wait() {
    done_.WaitForNotification();
    return status_;
  }
  // Which server answered, or the error's code name.
  std::string Who() {
    const absl::Status status = Wait();
    return status.ok() ? reply_.text() : absl::StatusCodeToString(status.code());
  }
  ClientContext& context() { return context_; }

 private:
  echo::EchoService::Stub stub_;
  ClientContext context_;
  echo::SayReply reply_;
  Notification done_;
  absl::Status status_;
};

// Who(), through the asynchronous stub, waiting for its callback.
std::string WhoAsync(Channel* channel) { return AsyncSay(channel, "").Who(); }

// The first of backends 0 and 1 to hold a call ("hold"), waiting up to 30 s; -1 if neither does.
int WhichHolds(Backends& backends) {
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline) {
    for (int i = 0; i < 2; ++i) {
      if (backends.echo(i).entered_.WaitForNotificationWithTimeout(absl::Milliseconds(20))) {
        return i;
      }
    }
  }
  return -1;
}

std::unique_ptr<Channel> Open(const std::string& target, const std::string& policy,
                              ChannelOptions options = {}) {
  options.load_balancing = policy;
  absl::StatusOr<std::unique_ptr<Channel>> channel = Channel::Create(target, options);
  EXPECT_TRUE(channel.ok()) << channel.status();
  return channel.ok() ? *std::move(channel) : nullptr;
}

TEST(TargetTest, Parses) {
  EXPECT_TRUE(IsBalancedTarget("ipv4:127.0.0.1:1"));
  EXPECT_TRUE(IsBalancedTarget("127.0.0.1:1,127.0.0.1:2"));
  EXPECT_TRUE(IsBalancedTarget("dns:///localhost:1"));
  EXPECT_FALSE(IsBalancedTarget("127.0.0.1:1"));
  EXPECT_FALSE(IsBalancedTarget("unix:/tmp/x"));
  absl::StatusOr<Target> list = ParseTarget("ipv4:127.0.0.1:1,127.0.0.2:2");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->addresses, (std::vector<std::string>{"127.0.0.1:1", "127.0.0.2:2"}));
  absl::StatusOr<Target> v6 = ParseTarget("ipv6:[::1]:1,[::1]:2");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->addresses.size(), 2u);
  absl::StatusOr<Target> dns = ParseTarget("dns:///localhost:7000");
  ASSERT_TRUE(dns.ok());
  EXPECT_EQ(dns->kind, Target::Kind::kDns);
  EXPECT_EQ(dns->host, "localhost");
  EXPECT_EQ(dns->port, "7000");
  EXPECT_EQ(ParseTarget("dns:[::1]:80")->host, "::1");
  for (const char* bad : {"ipv4:", "ipv4:[::1]:1", "ipv6:127.0.0.1:1", "dns:///localhost",
                          "dns://8.8.8.8/localhost:1", "127.0.0.1:1,,127.0.0.1:2",
                          "dns:///h:0", "dns:///h:99999"}) {
    EXPECT_EQ(ParseTarget(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  ChannelOptions random;
  random.load_balancing = "random";
  EXPECT_EQ(Channel::Create("ipv4:127.0.0.1:1", random).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(BalancedChannelTest, RoundRobinTakesTurns) {
  Backends backends(3);
  std::unique_ptr<Channel> channel = Open(backends.List(), "round_robin");
  std::map<std::string, int> counts;
  for (int i = 0; i < 30; ++i) ++counts[Who(channel.get())];
  EXPECT_EQ(counts, (std::map<std::string, int>{{"s0", 10}, {"s1", 10}, {"s2", 10}}));
}

// A call of a chain started from callbacks (see the tests below): kept until the test ends.
struct ChainedCall {
  ClientContext context;
  echo::SayReply reply;
};

// The endpoint channels share one I/O thread: a call that a completion callback starts on another
// endpoint is sent from that thread, without a hand-off to another one.
TEST(BalancedChannelTest, EveryEndpointCompletesOnOneThread) {
  Backends backends(3);
  std::unique_ptr<Channel> channel = Open(backends.List(), "round_robin");
  echo::EchoService::Stub stub(channel.get());
  std::vector<std::unique_ptr<ChainedCall>> calls;  // the callbacks run one after the other
  std::set<std::thread::id> threads;
  std::map<std::string, int> servers;
  absl::Status failure;
  Notification done;
  // 30 calls, each started from the callback of the one before.
  std::function<void()> next = [&] {
    calls.push_back(std::make_unique<ChainedCall>());
    ChainedCall* call = calls.back().get();
    stub.SayAsync(&call->context, echo::SayRequest(), &call->reply, [&, call](absl::Status s) {
      threads.insert(std::this_thread::get_id());
      ++servers[call->reply.text()];
      if (!s.ok()) failure = s;
      if (!s.ok() || calls.size() == 30) return done.Notify();
      next();
    });
  };
  next();
  done.WaitForNotification();
  ASSERT_TRUE(failure.ok()) << failure;
  EXPECT_EQ(servers, (std::map<std::string, int>{{"s0", 10}, {"s1", 10}, {"s2", 10}}));
  EXPECT_EQ(threads.size(), 1u);
}

// Destroying the channel while callbacks keep starting calls on every endpoint: each call ends,
// CANCELLED, before the destructor returns. A call started during the destruction fails at once
// rather than waiting (here for an hour) for endpoints on the shared I/O thread.
TEST(BalancedChannelTest, DestroyedWhileCallbacksStartCalls) {
  Backends backends(3);
  ChannelOptions options;
  options.connect_timeout = absl::Hours(1);
  std::unique_ptr<Channel> channel = Open(backends.List(), "round_robin", options);
  echo::EchoService::Stub stub(channel.get());
  constexpr int kChains = 8;
  std::mutex mu;
  std::vector<std::unique_ptr<ChainedCall>> calls;  // guarded by mu
  std::atomic<int> started{0};
  std::atomic<int> ended{0};
  std::atomic<int> unexpected{0};
  Notification warmed;
  std::function<void()> start = [&] {
    ChainedCall* call;
    {
      std::lock_guard<std::mutex> lock(mu);
      calls.push_back(std::make_unique<ChainedCall>());
      call = calls.back().get();
    }
    started.fetch_add(1);
    stub.SayAsync(&call->context, echo::SayRequest(), &call->reply, [&](absl::Status status) {
      const int n = ended.fetch_add(1) + 1;
      if (status.ok()) {
        if (n == 100) warmed.Notify();
        start();
      } else if (!absl::IsCancelled(status)) {
        unexpected.fetch_add(1);
      }
    });
  };
  for (int i = 0; i < kChains; ++i) start();
  warmed.WaitForNotification();
  channel.reset();
  EXPECT_EQ(ended.load(), started.load());
  EXPECT_EQ(unexpected.load(), 0);
}

// A server's GOAWAY drains its endpoint: the call already on it finishes, and later calls go to
// the other server, also after that call has succeeded there.
TEST(BalancedChannelTest, AGoawayDrainsItsEndpoint) {
  Backends backends(2);
  ChannelOptions options;
  options.eject_time = absl::Minutes(1);  // the drained server stays out for the whole test
  options.max_sync_connections = 0;       // every call on the multiplexed connections
  std::unique_ptr<Channel> channel = Open(backends.List(), "round_robin", options);
  auto* balanced = dynamic_cast<BalancedChannel*>(channel.get());
  ASSERT_NE(balanced, nullptr);
  AsyncSay held(channel.get(), "hold");  // held by whichever server round_robin gives it to
  const int holder = WhichHolds(backends);
  ASSERT_GE(holder, 0);
  const int other = 1 - holder;
  // The holder drains (GOAWAY, then it waits for the held call).
  std::thread stopper([&] { backends.Stop(holder); });
  EXPECT_TRUE(balanced->WaitForDrained(backends.address(holder), absl::Now() + absl::Seconds(30)));
  backends.echo(holder).release_.Notify();
  EXPECT_EQ(held.Who(), absl::StrCat("s", holder));
  stopper.join();
  for (int i = 0; i < 10; ++i) EXPECT_EQ(WhoAsync(channel.get()), absl::StrCat("s", other));
  EXPECT_TRUE(balanced->WaitForDrained(backends.address(holder), absl::Now()));
}

TEST(BalancedChannelTest, PickFirstFailsOverWithoutAFailedCall) {
  Backends backends(2);
  ChannelOptions options;
  options.eject_time = absl::Minutes(1);  // the stopped server stays out for the whole test
  std::unique_ptr<Channel> channel = Open("ipv4:" + backends.List(), "pick_first", options);
  EXPECT_EQ(Who(channel.get()), "s0");
  EXPECT_EQ(Who(channel.get()), "s0");
  backends.Stop(0);
  // The next call finds s0 gone: a new connection to it is refused, so nothing of the call was
  // sent and it goes to s1 (or, had it been written on a connection s0 dropped under it, it
  // fails UNAVAILABLE); either way s0 is ejected and the rest go to s1.
  const std::string first = Who(channel.get());
  EXPECT_TRUE(first == "s1" || first == "UNAVAILABLE") << first;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Who(channel.get()), "s1");
}

TEST(BalancedChannelTest, ACallNeverSentGoesToTheNextServerAtOnce) {
  Backends backends(1);
  ChannelOptions options;
  options.eject_time = absl::Milliseconds(1);
  // First in the list, an address where nothing listens: the connection is refused, nothing of
  // the call was written, and it goes to s0 transparently, blocking and asynchronous alike.
  const std::string dead = "127.0.0.1:1";
  std::unique_ptr<Channel> channel =
      Open(absl::StrCat(dead, ",", backends.address(0)), "pick_first", options);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Who(channel.get()), "s0");  // each after 1 ms' ejection
  echo::EchoService::Stub stub(channel.get());
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(WhoAsync(channel.get()), "s0");
  }
  // Nowhere to go: the never-sent status comes back, and says so.
  std::unique_ptr<Channel> dead_only = Open("127.0.0.1:1,127.0.0.1:2", "pick_first");
  echo::SayReply reply;
  ClientContext context;
  const absl::Status status = stub.Say(&context, echo::SayRequest(), &reply);
  EXPECT_TRUE(status.ok());
  ClientContext dead_context;
  const absl::Status refused =
      echo::EchoService::Stub(dead_only.get()).Say(&dead_context, echo::SayRequest(), &reply);
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(CallNeverSent(refused)) << refused;
}

TEST(BalancedChannelTest, LeastRequestAvoidsTheBusyServer) {
  Backends backends(2);
  std::unique_ptr<Channel> channel = Open(backends.List(), "least_request");
  AsyncSay held(channel.get(), "hold");  // held by whichever server takes it
  const int busy = WhichHolds(backends);
  ASSERT_GE(busy, 0);
  const std::string other = absl::StrCat("s", 1 - busy);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(Who(channel.get()), other);
  backends.echo(busy).release_.Notify();
  EXPECT_EQ(held.Who(), absl::StrCat("s", busy));
}

TEST(BalancedChannelTest, RingHashKeepsAKeyOnOneServer) {
  Backends backends(3);
  ChannelOptions options;
  options.hash_key = "user";
  std::unique_ptr<Channel> channel = Open(backends.List(), "ring_hash", options);
  std::map<std::string, std::string> home;
  std::map<std::string, int> spread;
  for (int k = 0; k < 30; ++k) {
    const std::string key = absl::StrCat("user-", k);
    home[key] = Who(channel.get(), "hi", key);
    ++spread[home[key]];
  }
  EXPECT_GE(spread.size(), 2u);  // 30 keys do not all hash to one of three servers
  for (int round = 0; round < 3; ++round) {
    for (const auto& [key, server] : home) EXPECT_EQ(Who(channel.get(), "hi", key), server) << key;
  }
  // A second channel agrees: the ring depends on the addresses only.
  std::unique_ptr<Channel> again = Open(backends.List(), "ring_hash", options);
  for (const auto& [key, server] : home) EXPECT_EQ(Who(again.get(), "hi", key), server) << key;
  // Without s2, only the keys s2 had move; every other key stays where it was.
  std::unique_ptr<Channel> without =
      Open(backends.address(0) + "," + backends.address(1), "ring_hash", options);
  int moved = 0;
  for (const auto& [key, server] : home) {
    const std::string now = Who(without.get(), "hi", key);
    if (server == "s2") {
      EXPECT_NE(now, "s2");
      ++moved;
    } else {
      EXPECT_EQ(now, server) << key;
    }
  }
  EXPECT_EQ(moved, spread["s2"]);
}

TEST(BalancedChannelTest, DnsTargetResolvesLocalhost) {
  Backends backends(1);
  const std::string port = backends.address(0).substr(backends.address(0).rfind(':') + 1);
  std::unique_ptr<Channel> channel = Open("dns:///localhost:" + port, "pick_first");
  EXPECT_EQ(Who(channel.get()), "s0");
  auto* balanced = dynamic_cast<BalancedChannel*>(channel.get());
  ASSERT_NE(balanced, nullptr);
  const std::vector<std::string> endpoints = balanced->endpoints();
  EXPECT_NE(std::find(endpoints.begin(), endpoints.end(), "127.0.0.1:" + port), endpoints.end());
}

TEST(BalancedChannelTest, AnUnresolvableNameIsUnavailableWithTheReason) {
  ChannelOptions options;
  options.connect_timeout = absl::Seconds(2);
  std::unique_ptr<Channel> channel =
      Open("dns:///no-such-host.invalid:80", "pick_first", options);
  echo::EchoService::Stub stub(channel.get());
  ClientContext context;
  echo::SayReply reply;
  absl::Status status = stub.Say(&context, echo::SayRequest(), &reply);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(status.message().find("cannot resolve 'no-such-host.invalid'"), std::string::npos)
      << status;
}

TEST(BalancedChannelTest, StreamsGoThroughTheBalancer) {
  Backends backends(2);
  std::unique_ptr<Channel> channel = Open(backends.List(), "round_robin");
  for (int i = 0; i < 4; ++i) {
    grpc::health::v1::Health::Stub health(channel.get());
    ClientContext context;
    grpc::health::v1::HealthCheckRequest request;
    auto stream = health.Watch(&context, request);
    grpc::health::v1::HealthCheckResponse response;
    ASSERT_TRUE(stream->Read(&response));
    EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
    context.TryCancel();
    EXPECT_EQ(stream->Finish().code(), absl::StatusCode::kCancelled);
  }
}

TEST(RetryTest, AFlakyServerIsRetriedUpToMaxAttempts) {
  FlakyEcho flaky(2, absl::StatusCode::kUnavailable);
  std::unique_ptr<Server> server = Serve(&flaky);
  ChannelOptions options;
  options.service_config = kRetrySay;
  // The same server twice: the list is a balanced target, and every attempt reaches it.
  const std::string a = server->listen_address(0);
  std::unique_ptr<Channel> channel = Open(a + "," + a, "round_robin", options);
  EXPECT_EQ(Who(channel.get()), "ok");
  EXPECT_EQ(flaky.calls(), 3);

  FlakyEcho always(100, absl::StatusCode::kUnavailable);
  std::unique_ptr<Server> down = Serve(&always);
  const std::string d = down->listen_address(0);
  std::unique_ptr<Channel> exhausted = Open(d + "," + d, "round_robin", options);
  EXPECT_EQ(Who(exhausted.get()), "UNAVAILABLE");
  EXPECT_EQ(always.calls(), 3);  // maxAttempts
}

TEST(RetryTest, OnlyRetryableCodesAndOnlyConfiguredMethods) {
  FlakyEcho invalid(1, absl::StatusCode::kInvalidArgument);
  std::unique_ptr<Server> server = Serve(&invalid);
  ChannelOptions options;
  options.service_config = kRetrySay;
  const std::string a = server->listen_address(0);
  std::unique_ptr<Channel> channel = Open(a + "," + a, "round_robin", options);
  EXPECT_EQ(Who(channel.get()), "INVALID_ARGUMENT");
  EXPECT_EQ(invalid.calls(), 1);

  FlakyEcho flaky(1, absl::StatusCode::kUnavailable);
  std::unique_ptr<Server> other = Serve(&flaky);
  ChannelOptions bytes_only;
  bytes_only.service_config = R"({"methodConfig": [{
      "name": [{"service": "framerpc.echo.EchoService", "method": "Bytes"}],
      "retryPolicy": {"maxAttempts": 3, "initialBackoff": "0.001s", "maxBackoff": "0.01s",
                      "backoffMultiplier": 2, "retryableStatusCodes": ["UNAVAILABLE"]}}]})";
  const std::string b = other->listen_address(0);
  std::unique_ptr<Channel> not_say = Open(b + "," + b, "round_robin", bytes_only);
  EXPECT_EQ(Who(not_say.get()), "UNAVAILABLE");
  EXPECT_EQ(flaky.calls(), 1);
}

TEST(RetryTest, AsynchronousCallsAreRetriedToo) {
  FlakyEcho flaky(2, absl::StatusCode::kUnavailable);
  std::unique_ptr<Server> server = Serve(&flaky);
  ChannelOptions options;
  options.service_config = kRetrySay;
  const std::string a = server->listen_address(0);
  std::unique_ptr<Channel> channel = Open(a + "," + a, "round_robin", options);
  EXPECT_EQ(WhoAsync(channel.get()), "ok");
  EXPECT_EQ(flaky.calls(), 3);
}

TEST(RetryTest, TheRetryBudgetStopsRetries) {
  FlakyEcho always(100, absl::StatusCode::kUnavailable);
  std::unique_ptr<Server> server = Serve(&always);
  ChannelOptions options;
  // 4 tokens: retries go on while more than 2 are left; each failed attempt takes one.
  options.service_config = std::string(kRetrySay).insert(
      std::string(kRetrySay).size() - 1, R"(, "retryThrottling": {"maxTokens": 4, "tokenRatio": 0.1})");
  const std::string a = server->listen_address(0);
  std::unique_ptr<Channel> channel = Open(a + "," + a, "round_robin", options);
  EXPECT_EQ(Who(channel.get()), "UNAVAILABLE");  // 4 -> 3 (retry), 3 -> 2: stop
  EXPECT_EQ(always.calls(), 2);
  EXPECT_EQ(Who(channel.get()), "UNAVAILABLE");  // 2 -> 1, no retry
  EXPECT_EQ(always.calls(), 3);
}

TEST(RetryTest, ABadServiceConfigIsRefused) {
  for (const char* bad :
       {"not json", R"({"methodConfig": [{"name": [{"service": "s"}], "retryPolicy": {"maxAttempts": 1}}]})",
        R"({"methodConfig": [{"name": [{"service": "s"}], "retryPolicy": {"maxAttempts": 2, "initialBackoff": "1", "maxBackoff": "1s", "backoffMultiplier": 2, "retryableStatusCodes": ["UNAVAILABLE"]}}]})",
        R"({"methodConfig": [{"name": [{"service": "s"}], "retryPolicy": {"maxAttempts": 2, "initialBackoff": "1s", "maxBackoff": "1s", "backoffMultiplier": 2, "retryableStatusCodes": ["NOPE"]}}]})",
        R"({"retryThrottling": {"maxTokens": 0, "tokenRatio": 0.1}})",
        R"({"methodConfig": [{"name": [{"service": "s"}], "hedgingPolicy": {"maxAttempts": 2, "hedgingDelay": "0.01s"}, "retryPolicy": {}}]})",
        R"({"methodConfig": [{"name": [{"service": "s"}], "hedgingPolicy": {"maxAttempts": 1, "hedgingDelay": "0.01s"}}]})"}) {
    ChannelOptions options;
    options.service_config = bad;
    EXPECT_EQ(Channel::Create("127.0.0.1:1,127.0.0.1:2", options).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

constexpr char kHedgeSay[] = R"({"methodConfig": [{
    "name": [{"service": "framerpc.echo.EchoService", "method": "Say"}],
    "hedgingPolicy": {"maxAttempts": 2, "hedgingDelay": "0.01s",
                      "nonFatalStatusCodes": ["UNAVAILABLE"]}}]})";

TEST(HedgingTest, AnAnswerFromTheBackupWhileTheFirstServerHoldsTheCall) {
  Backends backends(2);
  ChannelOptions options;
  options.service_config = kHedgeSay;
  std::unique_ptr<Channel> channel = Open(backends.List(), "pick_first", options);
  // The first attempt goes to s0 (pick_first), which holds it; 10 ms later the hedge goes to s1,
  // which answers at once (released beforehand).
  backends.echo(1).release_.Notify();
  EXPECT_EQ(Who(channel.get(), "hold"), "s1");
  EXPECT_TRUE(backends.echo(0).entered_.HasBeenNotified());  // s0 got the first attempt
  backends.echo(0).release_.Notify();
}

TEST(HedgingTest, CancellingTheCallCancelsEveryAttempt) {
  Backends backends(2);  // both hold
  ChannelOptions options;
  options.service_config = kHedgeSay;
  std::unique_ptr<Channel> channel = Open(backends.List(), "pick_first", options);
  AsyncSay call(channel.get(), "hold");
  backends.echo(0).entered_.WaitForNotification();
  backends.echo(1).entered_.WaitForNotification();  // the hedge reached s1 too
  call.context().TryCancel();
  const absl::Status result = call.Wait();
  EXPECT_EQ(result.code(), absl::StatusCode::kCancelled) << result;
}

TEST(HedgingTest, ANonFatalFailureSendsTheNextAttemptAtOnce) {
  FlakyEcho failing(100, absl::StatusCode::kUnavailable);
  std::unique_ptr<Server> a = Serve(&failing);
  NamedEcho good("good");
  good.release_.Notify();
  std::unique_ptr<Server> b = Serve(&good);
  ChannelOptions options;
  options.service_config = kHedgeSay;
  std::unique_ptr<Channel> channel =
      Open(a->listen_address(0) + "," + b->listen_address(0), "pick_first", options);
  EXPECT_EQ(Who(channel.get()), "good");
  EXPECT_EQ(failing.calls(), 1);

  // A fatal code (not listed) ends the call at once.
  FlakyEcho invalid(100, absl::StatusCode::kInvalidArgument);
  std::unique_ptr<Server> c = Serve(&invalid);
  std::unique_ptr<Channel> fatal =
      Open(c->listen_address(0) + "," + b->listen_address(0), "pick_first", options);
  EXPECT_EQ(Who(fatal.get()), "INVALID_ARGUMENT");
}

}  // namespace
}  // namespace framerpc

// A BalancedChannel follows its resolver (issue 16's "a new server added to the list gets
// calls"): three servers behind round_robin, then a fourth added by a resolver update gets its
// share of the calls; a server taken out gets none; a failed resolution keeps the last endpoints.
// The resolver is a test scheme registered with RegisterResolverScheme, as a user's naming system
// would be.
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "proto/echo.frpc.h"
#include "rpc/channel.h"
#include "rpc/resolver.h"
#include "rpc/server.h"

namespace framerpc {
namespace {

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

struct Backend {
  explicit Backend(const std::string& name) : echo(name) {
    ServerOptions options;
    options.io_threads = 1;
    options.worker_threads = 1;
    server = std::make_unique<Server>(options);
    EXPECT_TRUE(server->AddService(&echo).ok());
    EXPECT_TRUE(server->AddListener("127.0.0.1:0").ok());
    EXPECT_TRUE(server->Start().ok());
    address = server->listen_address(0);
  }
  ~Backend() { server->Shutdown(absl::Seconds(2)); }
  NamedEcho echo;
  std::unique_ptr<Server> server;
  std::string address;
};

// The names behind "pushed:" targets: the test pushes each update, as a watch would.
class PushedNames {
 public:
  class PushedResolver final : public Resolver {
   public:
    explicit PushedResolver(PushedNames* names) : names_(names) {}
    ~PushedResolver() override { names_->Attach(nullptr); }
    void Start(Update update) override { names_->Attach(std::move(update)); }
    void RequestResolution() override {}

   private:
    PushedNames* const names_;
  };

  // Sends `result` to the channel now (on this thread), and to channels made later.
  void Push(absl::StatusOr<std::vector<std::string>> result) {
    std::lock_guard<std::mutex> lock(mu_);
    if (result.ok()) last_ = *result;
    if (update_) update_(std::move(result));
  }

 private:
  void Attach(Resolver::Update update) {
    std::lock_guard<std::mutex> lock(mu_);
    update_ = std::move(update);
    if (update_) update_(last_);
  }

  std::mutex mu_;
  Resolver::Update update_;          // guarded by mu_
  std::vector<std::string> last_;    // guarded by mu_
};

PushedNames* Names() {
  static PushedNames* names = [] {
    auto* made = new PushedNames();
    RegisterResolverScheme("pushed", [made](absl::string_view) {
      return absl::StatusOr<std::unique_ptr<Resolver>>(
          std::make_unique<PushedNames::PushedResolver>(made));
    });
    return made;
  }();
  return names;
}

std::map<std::string, int> Spread(Channel* channel, int calls) {
  echo::EchoService::Stub stub(channel);
  std::map<std::string, int> counts;
  for (int i = 0; i < calls; ++i) {
    ClientContext context;
    context.set_timeout(absl::Seconds(10));
    echo::SayReply reply;
    absl::Status status = stub.Say(&context, echo::SayRequest(), &reply);
    ++counts[status.ok() ? reply.text() : absl::StatusCodeToString(status.code())];
  }
  return counts;
}

TEST(ResolverUpdateTest, ANewServerAddedToTheListGetsCalls) {
  Backend s0("s0"), s1("s1"), s2("s2"), s3("s3");
  Names()->Push(std::vector<std::string>{s0.address, s1.address, s2.address});
  ChannelOptions options;
  options.load_balancing = "round_robin";
  absl::StatusOr<std::unique_ptr<Channel>> channel = Channel::Create("pushed:///echo", options);
  ASSERT_TRUE(channel.ok()) << channel.status();
  EXPECT_EQ(Spread(channel->get(), 30),
            (std::map<std::string, int>{{"s0", 10}, {"s1", 10}, {"s2", 10}}));

  Names()->Push(std::vector<std::string>{s0.address, s1.address, s2.address, s3.address});
  EXPECT_EQ(Spread(channel->get(), 40),
            (std::map<std::string, int>{{"s0", 10}, {"s1", 10}, {"s2", 10}, {"s3", 10}}));

  Names()->Push(std::vector<std::string>{s0.address, s2.address, s3.address});
  EXPECT_EQ(Spread(channel->get(), 30),
            (std::map<std::string, int>{{"s0", 10}, {"s2", 10}, {"s3", 10}}));

  // A resolver that fails (its naming system unreachable) leaves the channel its endpoints.
  Names()->Push(absl::UnavailableError("naming system down"));
  EXPECT_EQ(Spread(channel->get(), 30),
            (std::map<std::string, int>{{"s0", 10}, {"s2", 10}, {"s3", 10}}));
}

}  // namespace
}  // namespace framerpc

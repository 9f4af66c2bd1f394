// ServiceOptions::own_threads: a service whose handlers block cannot take the threads of the
// others, and a call beyond its threads is refused at once with RESOURCE_EXHAUSTED.
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "base/notification.h"
#include "gtest/gtest.h"
#include "proto/echo.frpc.h"
#include "rpc/channel.h"
#include "rpc/server.h"

namespace framerpc {
namespace {

// Say("block") waits until Release(); other texts are echoed at once.
class BlockingEcho final : public echo::EchoService::Service {
 public:
  absl::Status Say(ServerContext* context, const echo::SayRequest& request,
                   echo::SayReply* reply) override {
    if (request.text() == "block") {
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++blocked_;
      }
      blocked_cv_.notify_all();
      release_.WaitForNotification();
    }
    reply->set_text(request.text());
    return absl::OkStatus();
  }
  absl::Status Bytes(ServerContext*, const echo::BytesRequest&, echo::BytesReply*) override {
    return absl::OkStatus();
  }

  void WaitUntilBlocked(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    blocked_cv_.wait(lock, [&] { return blocked_ >= n; });
  }
  void Release() { release_.Notify(); }

 private:
  std::mutex mu_;
  std::condition_variable blocked_cv_;
  int blocked_ = 0;
  Notification release_;
};

class OwnThreadsTest : public testing::Test {
 protected:
  void Start(int own_threads, int shared_workers) {
    ServerOptions options;
    options.worker_threads = shared_workers;
    server_ = std::make_unique<Server>(options);
    ASSERT_TRUE(server_->AddService(&blocking_, ServiceOptions{.own_threads = own_threads}).ok());
    ASSERT_TRUE(server_->AddListener("127.0.0.1:0").ok());
    ASSERT_TRUE(server_->Start().ok());
    auto channel = Channel::Create(server_->listen_address(0));
    ASSERT_TRUE(channel.ok());
    channel_ = *std::move(channel);
    stub_ = std::make_unique<echo::EchoService::Stub>(channel_.get());
  }

  void TearDown() override {
    blocking_.Release();
    stub_.reset();
    channel_.reset();
    if (server_) server_->Shutdown(absl::Seconds(10));
  }

  absl::Status Say(const std::string& text, std::string* out = nullptr) {
    ClientContext context;
    context.set_timeout(absl::Seconds(30));
    echo::SayRequest request;
    request.set_text(text);
    echo::SayReply reply;
    absl::Status status = stub_->Say(&context, request, &reply);
    if (out != nullptr) *out = reply.text();
    return status;
  }

  BlockingEcho blocking_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<Channel> channel_;
  std::unique_ptr<echo::EchoService::Stub> stub_;
};

TEST_F(OwnThreadsTest, CallsBeyondTheThreadsAreRefusedAtOnce) {
  Start(/*own_threads=*/2, /*shared_workers=*/1);
  struct Pending {
    ClientContext context;
    echo::SayRequest request;
    echo::SayReply reply;
    Notification done;
    absl::Status status;
  };
  std::vector<std::unique_ptr<Pending>> blocked;
  for (int i = 0; i < 2; ++i) {
    auto pending = std::make_unique<Pending>();
    pending->request.set_text("block");
    Pending* p = pending.get();
    stub_->SayAsync(&p->context, p->request, &p->reply, [p](absl::Status s) {
      p->status = std::move(s);
      p->done.Notify();
    });
    blocked.push_back(std::move(pending));
  }
  blocking_.WaitUntilBlocked(2);

  // Both threads are taken: a third call is refused at once (its deadline is 30 s away).
  absl::Status refused = Say("one too many");
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted) << refused;
  EXPECT_TRUE(absl::StrContains(refused.message(), "framerpc.echo.EchoService is busy: all 2"))
      << refused;

  blocking_.Release();
  for (auto& p : blocked) {
    p->done.WaitForNotification();
    EXPECT_TRUE(p->status.ok()) << p->status;
    EXPECT_EQ(p->reply.text(), "block");
  }
}

TEST_F(OwnThreadsTest, AClientWithItsReplyIsNeverRefusedItsNextCall) {
  // One thread: each call is admitted only once the previous one has left its slot, which it does
  // before its reply is sent.
  Start(/*own_threads=*/1, /*shared_workers=*/1);
  for (int i = 0; i < 2000; ++i) {
    std::string out;
    ASSERT_TRUE(Say("x", &out).ok()) << "call " << i;
  }
}

TEST(OwnThreadsSetupTest, NegativeThreadsAreRefused) {
  Server server;
  BlockingEcho echo;
  EXPECT_EQ(server.AddService(&echo, ServiceOptions{.own_threads = -1}).code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace framerpc

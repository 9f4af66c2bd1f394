// The access log (issue 15.3) on a real server, beside another observer through a
// CompositeObserver: one JSON line per call with method, peer, transport, code, duration, bytes
// and trace id, over the framed transport and the gRPC adapter; never the token a call carries,
// nor its payload; sampled; rate-limited with the held-back lines counted.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "adapters/grpc/grpc_adapter.h"
#include "adapters/grpc/grpc_test_util.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "logging/access_log.h"
#include "logging/log_capture.h"
#include "proto/echo.frpc.h"
#include "rpc/channel.h"
#include "rpc/observers.h"
#include "rpc/server.h"
#include "services/echo/echo_service.h"
#include "tests/test_util.h"

namespace framerpc {
namespace {

constexpr char kToken[] = "s3cr3t-t0ken-that-must-never-be-logged";
constexpr char kPayload[] = "a payload that must never be logged";
constexpr char kTraceparent[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
constexpr char kSay[] = "/framerpc.echo.EchoService/Say";

// Counts finished calls: another observer beside the access log.
class CountingObserver final : public CallObserver {
 public:
  MethodHandle RegisterMethod(absl::string_view, MethodKind) override { return this; }
  MethodHandle UnknownMethod() override { return this; }
  void OnStarted(MethodHandle, CallTransport) override {}
  void OnFinished(MethodHandle, const FinishedCall&) override { ++finished_; }
  void OnStreamMessage(MethodHandle, CallTransport, bool, size_t) override {}
  int finished() const { return finished_.load(); }

 private:
  std::atomic<int> finished_{0};
};

// nlohmann::json rather than protobuf's Struct: under ThreadSanitizer, our inlined Map lookups
// disagree with Debian's uninstrumented protobuf.
nlohmann::json Parse(const std::string& line) {
  nlohmann::json parsed = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  EXPECT_TRUE(parsed.is_object()) << "not one JSON object: " << line;
  return parsed.is_object() ? parsed : nlohmann::json::object();
}

std::string Str(const nlohmann::json& s, const std::string& key) {
  auto it = s.find(key);
  return it == s.end() || !it->is_string() ? "<missing>" : it->get<std::string>();
}

double Num(const nlohmann::json& s, const std::string& key) {
  auto it = s.find(key);
  return it == s.end() || !it->is_number() ? -1 : it->get<double>();
}

class AccessLogTest : public ::testing::Test {
 protected:
  void Start(logging::AccessLogOptions options) {
    access_log_ = std::make_unique<logging::AccessLog>(options);
    observers_ = std::make_unique<CompositeObserver>(
        std::vector<CallObserver*>{&counting_, access_log_.get()});
    ServerOptions server_options;
    server_options.observer = observers_.get();
    server_ = std::make_unique<Server>(server_options);
    FRPC_ASSERT_OK(server_->AddService(&echo_));
    FRPC_ASSERT_OK(server_->AddListener("127.0.0.1:0"));
    FRPC_ASSERT_OK(server_->Start());
    absl::StatusOr<std::unique_ptr<Channel>> channel = Channel::Create(server_->listen_address(0));
    ASSERT_TRUE(channel.ok()) << channel.status();
    channel_ = *std::move(channel);
  }

  void TearDown() override {
    channel_.reset();
    if (server_) server_->Shutdown(absl::Seconds(5));
  }

  absl::Status Say(const std::string& text, bool with_credentials = false) {
    ClientContext context;
    if (with_credentials) {
      context.AddMetadata("authorization", absl::StrCat("Bearer ", kToken));
      context.AddMetadata("traceparent", kTraceparent);
    }
    echo::SayRequest request;
    request.set_text(text);
    echo::SayReply reply;
    return channel_->Call(kSay, &context, request, &reply);
  }

  // The captured lines of the access log's calls.
  std::vector<nlohmann::json> CallLines() {
    std::vector<nlohmann::json> calls;
    for (const std::string& line : capture_.Lines()) {
      nlohmann::json parsed = Parse(line);
      if (Str(parsed, "logger") == "access" && Str(parsed, "msg") == "call") {
        calls.push_back(parsed);
      }
    }
    return calls;
  }

  logging::LogCapture capture_{{logging::Level::kInfo, logging::Format::kJson}};
  echo::EchoServiceImpl echo_;
  CountingObserver counting_;
  std::unique_ptr<logging::AccessLog> access_log_;
  std::unique_ptr<CompositeObserver> observers_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<Channel> channel_;
};

TEST_F(AccessLogTest, ALinePerCallWithoutTokenOrPayload) {
  Start({});
  FRPC_ASSERT_OK(Say(kPayload, /*with_credentials=*/true));
  {
    ClientContext context;
    context.AddMetadata("authorization", absl::StrCat("Bearer ", kToken));
    echo::SayRequest request;
    echo::SayReply reply;
    EXPECT_EQ(channel_->Call("/framerpc.echo.EchoService/Nope", &context, request, &reply).code(),
              absl::StatusCode::kUnimplemented);
  }
  // Through the gRPC adapter too.
  GrpcAdapter adapter(server_->dispatcher());
  FRPC_ASSERT_OK(adapter.Start());
  {
    grpc::GenericStub stub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", adapter.listen_port()),
                                               grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    context.AddMetadata("authorization", absl::StrCat("Bearer ", kToken));
    echo::SayRequest request;
    request.set_text(kPayload);
    std::string response;
    ASSERT_TRUE(
        grpc_test::UnaryCall(&stub, &context, kSay, request.SerializeAsString(), &response).ok());
  }
  adapter.Shutdown(absl::Seconds(5));

  const std::vector<nlohmann::json> calls = CallLines();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(counting_.finished(), 3);
  const nlohmann::json& ok = calls[0];
  EXPECT_EQ(Str(ok, "level"), "info");
  EXPECT_EQ(Str(ok, "method"), kSay);
  EXPECT_TRUE(absl::StartsWith(Str(ok, "peer"), "127.0.0.1:")) << Str(ok, "peer");
  EXPECT_EQ(Str(ok, "transport"), "framed");
  EXPECT_EQ(Str(ok, "code"), "OK");
  EXPECT_GE(Num(ok, "duration_us"), 0);
  EXPECT_GT(Num(ok, "request_bytes"), static_cast<double>(sizeof(kPayload) - 1));
  EXPECT_GT(Num(ok, "response_bytes"), static_cast<double>(sizeof(kPayload) - 1));
  EXPECT_EQ(Str(ok, "trace_id"), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(Str(ok, "span_id").size(), 16u);
  EXPECT_EQ(Str(calls[1], "method"), "/framerpc.echo.EchoService/Nope");
  EXPECT_EQ(Str(calls[1], "code"), "UNIMPLEMENTED");
  EXPECT_EQ(Str(calls[1], "trace_id").size(), 32u);  // a trace of its own
  EXPECT_EQ(Str(calls[2], "transport"), "grpc");
  EXPECT_EQ(Str(calls[2], "code"), "OK");

  for (const std::string& line : capture_.Lines()) {
    EXPECT_FALSE(absl::StrContains(line, kToken)) << line;
    EXPECT_FALSE(absl::StrContains(line, "Bearer")) << line;
    EXPECT_FALSE(absl::StrContains(line, kPayload)) << line;
  }
}

TEST_F(AccessLogTest, Sampled) {
  Start({.sample_every = 4});
  for (int i = 0; i < 8; ++i) FRPC_ASSERT_OK(Say("hi"));
  EXPECT_EQ(CallLines().size(), 2u);
  EXPECT_EQ(counting_.finished(), 8);
  EXPECT_EQ(access_log_->calls(), 8u);
}

TEST_F(AccessLogTest, RateLimitedAndTheHeldBackCounted) {
  // A burst of 3 lines, then (practically) none.
  Start({.sample_every = 1, .max_lines_per_second = 1e-9, .burst = 3});
  for (int i = 0; i < 10; ++i) FRPC_ASSERT_OK(Say("hi"));
  EXPECT_EQ(CallLines().size(), 3u);
  EXPECT_EQ(access_log_->suppressed(), 7u);
  access_log_->Flush();
  const std::vector<std::string> lines = capture_.Lines();
  ASSERT_FALSE(lines.empty());
  const nlohmann::json last = Parse(lines.back());
  EXPECT_EQ(Str(last, "msg"), "access log lines suppressed");
  EXPECT_EQ(Num(last, "suppressed"), 7);
  access_log_->Flush();  // nothing more to report
  EXPECT_EQ(capture_.Lines().size(), lines.size());
}

}  // namespace
}  // namespace framerpc

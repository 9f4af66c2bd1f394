// Refusals are logged once each with kind, peer and reason, and rate-limited (issue 15.3): a
// flood of 10,000 garbage connections writes a bounded number of lines, and the lines held back
// are counted to the last one. Also a first-byte timeout, a connection shed at the limit and a
// stream refused over its limit, each logged with its peer and reason.
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "services/health/health_service.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "logging/log_capture.h"
#include "logging/refusal_log.h"
#include "rpc/channel.h"
#include "rpc/server.h"
#include "services/echo/echo_service.h"
#include "tests/test_util.h"
#include "transport/socket_address.h"
#include "transport/socket_ops.h"

namespace framerpc {
namespace {

// Forwards to the refusal log, and lets the test wait until it has seen so many refusals.
class CountingRefusals final : public RefusalObserver {
 public:
  explicit CountingRefusals(RefusalObserver* next) : next_(next) {}
  void OnRefusal(RefusalKind kind, absl::string_view peer, absl::string_view reason) override {
    next_->OnRefusal(kind, peer, reason);
    std::lock_guard<std::mutex> lock(mu_);
    ++counts_[static_cast<size_t>(kind)];
    cv_.notify_all();
  }
  bool WaitFor(RefusalKind kind, uint64_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_until(lock, ToChronoDeadline(absl::Now() + absl::Seconds(120)),
                          [&] { return counts_[static_cast<size_t>(kind)] >= n; });
  }

 private:
  RefusalObserver* const next_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::array<uint64_t, kRefusalKinds> counts_{};  // guarded by mu_
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

class RefusalLogTest : public ::testing::Test {
 protected:
  void Start(ServerOptions options, logging::RefusalLogOptions log_options = {}) {
    refusal_log_ = std::make_unique<logging::RefusalLog>(log_options);
    counting_ = std::make_unique<CountingRefusals>(refusal_log_.get());
    options.refusals = counting_.get();
    server_ = std::make_unique<Server>(options);
    FRPC_ASSERT_OK(server_->AddService(&echo_));
    FRPC_ASSERT_OK(server_->AddService(&health_, {.run_inline = false}));
    FRPC_ASSERT_OK(server_->AddListener("127.0.0.1:0"));
    FRPC_ASSERT_OK(server_->Start());
    address_ = *SocketAddress::Parse(server_->listen_address(0));
  }

  void TearDown() override {
    if (server_) server_->Shutdown(absl::Seconds(5));
  }

  // The refusal log's lines, parsed.
  std::vector<nlohmann::json> RefusalLines() {
    std::vector<nlohmann::json> lines;
    for (const std::string& line : capture_.Lines()) {
      nlohmann::json parsed = Parse(line);
      if (Str(parsed, "logger") == "refusal") lines.push_back(parsed);
    }
    return lines;
  }

  logging::LogCapture capture_{{logging::Level::kInfo, logging::Format::kJson}};
  echo::EchoServiceImpl echo_;
  HealthService health_;
  std::unique_ptr<logging::RefusalLog> refusal_log_;
  std::unique_ptr<CountingRefusals> counting_;
  std::unique_ptr<Server> server_;
  SocketAddress address_;
};

TEST_F(RefusalLogTest, AFloodOfGarbageWritesABoundedNumberOfLines) {
  const logging::RefusalLogOptions log_options{.lines_per_second = 1, .burst = 20};
  Start({}, log_options);
  constexpr int kConnections = 10000;
  const std::string junk = "this is not framerpc at all, not even close\r\n\r\n";
  const absl::Time start = absl::Now();
  for (int i = 0; i < kConnections; ++i) {
    absl::StatusOr<ScopedFd> fd = ConnectBlocking(address_);
    ASSERT_TRUE(fd.ok()) << i << ": " << fd.status();
    ASSERT_EQ(::send(fd->get(), junk.data(), junk.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(junk.size()));
  }  // each closed at once
  ASSERT_TRUE(counting_->WaitFor(RefusalKind::kGarbage, kConnections));
  const absl::Duration elapsed = absl::Now() - start;
  refusal_log_->Flush();

  uint64_t logged = 0;
  uint64_t reported_suppressed = 0;
  const std::vector<nlohmann::json> lines = RefusalLines();
  for (const nlohmann::json& line : lines) {
    EXPECT_EQ(Str(line, "kind"), "garbage");
    EXPECT_EQ(Str(line, "level"), "warn");
    if (Str(line, "msg") == "refused") {
      ++logged;
      EXPECT_TRUE(absl::StartsWith(Str(line, "peer"), "127.0.0.1:")) << Str(line, "peer");
      EXPECT_TRUE(absl::StrContains(Str(line, "reason"), "bad magic")) << Str(line, "reason");
    } else {
      ASSERT_EQ(Str(line, "msg"), "refusals suppressed");
      reported_suppressed += static_cast<uint64_t>(line.at("suppressed").get<double>());
    }
  }
  // The burst, then one line a second; each line let through after some were held back is
  // preceded by their count, and Flush() reports the rest.
  const uint64_t bound = 20 + 2 * static_cast<uint64_t>(absl::ToDoubleSeconds(elapsed) + 1) + 1;
  std::printf("10000 garbage connections in %s: %zu log lines (%lu refusals, %lu suppressed)\n",
              absl::FormatDuration(elapsed).c_str(), lines.size(),
              static_cast<unsigned long>(logged), static_cast<unsigned long>(reported_suppressed));
  EXPECT_LE(lines.size(), bound);
  EXPECT_GE(logged, 20u);
  // Every refusal is either a line or counted in one.
  EXPECT_EQ(logged + reported_suppressed, static_cast<uint64_t>(kConnections));
  EXPECT_EQ(refusal_log_->refused(RefusalKind::kGarbage), static_cast<uint64_t>(kConnections));
  EXPECT_EQ(refusal_log_->suppressed(RefusalKind::kGarbage), reported_suppressed);
  // A connection is refused as it reads the bad magic, and counted as closed when its close
  // completes, which may be after the last refusal was seen: Shutdown waits for every close.
  server_->Shutdown(absl::Seconds(5));
  EXPECT_EQ(server_->stats().closed(CloseReason::kGarbage), static_cast<uint64_t>(kConnections));
}

TEST_F(RefusalLogTest, FirstByteTimeout) {
  ServerOptions options;
  options.timeouts.first_byte = absl::Milliseconds(100);
  Start(options);
  absl::StatusOr<ScopedFd> silent = ConnectBlocking(address_);
  ASSERT_TRUE(silent.ok()) << silent.status();
  const std::string local = LocalAddress(silent->get()).ToString();
  ASSERT_TRUE(counting_->WaitFor(RefusalKind::kTimeout, 1));
  const std::vector<nlohmann::json> lines = RefusalLines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(Str(lines[0], "level"), "info");
  EXPECT_EQ(Str(lines[0], "kind"), "timeout");
  EXPECT_EQ(Str(lines[0], "peer"), local);
  EXPECT_EQ(Str(lines[0], "reason"), "first byte timeout");
}

TEST_F(RefusalLogTest, ShedAtTheConnectionLimit) {
  ServerOptions options;
  options.max_connections = 1;
  Start(options);
  absl::StatusOr<ScopedFd> first = ConnectBlocking(address_);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(server_->WaitForConnectionCount(1, absl::Now() + absl::Seconds(30)));
  const std::string first_address = LocalAddress(first->get()).ToString();
  absl::StatusOr<ScopedFd> second = ConnectBlocking(address_);  // the idle first one makes room
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_TRUE(counting_->WaitFor(RefusalKind::kLimit, 1));
  const std::vector<nlohmann::json> lines = RefusalLines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(Str(lines[0], "kind"), "limit");
  EXPECT_EQ(Str(lines[0], "peer"), first_address);
  EXPECT_EQ(Str(lines[0], "reason"), "closed to make room at a connection limit");
}

TEST_F(RefusalLogTest, StreamOverTheLimit) {
  ServerOptions options;
  options.max_concurrent_streams_per_connection = 0;
  Start(options);
  absl::StatusOr<std::unique_ptr<Channel>> channel = Channel::Create(server_->listen_address(0));
  ASSERT_TRUE(channel.ok()) << channel.status();
  ClientContext context;
  std::unique_ptr<ClientStreamBase> stream = (*channel)->StartStream(
      "/grpc.health.v1.Health/Watch", MethodKind::kServerStreaming, &context, nullptr);
  EXPECT_EQ(stream->Finish().code(), absl::StatusCode::kResourceExhausted);
  ASSERT_TRUE(counting_->WaitFor(RefusalKind::kLimit, 1));
  const std::vector<nlohmann::json> lines = RefusalLines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(Str(lines[0], "kind"), "limit");
  EXPECT_TRUE(absl::StartsWith(Str(lines[0], "peer"), "127.0.0.1:")) << Str(lines[0], "peer");
  EXPECT_EQ(Str(lines[0], "reason"),
            "RESOURCE_EXHAUSTED: too many concurrent streams on this connection (limit 0)");
}

}  // namespace
}  // namespace framerpc

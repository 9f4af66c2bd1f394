#include "bench/rpc_echo.h"

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/notification.h"
#include "proto/echo.frpc.h"

namespace framerpc::bench {
namespace {

using Clock = std::chrono::steady_clock;
using echo::BytesReply;
using echo::BytesRequest;
using echo::EchoService;

int64_t Nanos(Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

std::string MakePayload(size_t bytes) {
  std::string payload(bytes, '\0');
  for (size_t i = 0; i < bytes; ++i) payload[i] = static_cast<char>('a' + i % 26);
  return payload;
}

absl::Status CheckEcho(const std::string& sent, const std::string& got) {
  if (got.size() != sent.size()) {
    return absl::DataLossError(
        absl::StrCat("echo returned ", got.size(), " bytes for ", sent.size()));
  }
  return absl::OkStatus();
}

// Shared by the calls of one RunRpcAsync. Latencies and counts are per channel, touched only on
// that channel's I/O thread until `finished` has counted every call chain down.
class AsyncRun {
 public:
  AsyncRun(const std::vector<Channel*>& channels, size_t payload_bytes, int inflight,
           Clock::time_point deadline)
      : payload_(MakePayload(payload_bytes)),
        deadline_(deadline),
        finished_(static_cast<int>(channels.size()) * inflight) {
    for (Channel* channel : channels) {
      auto conn = std::make_unique<PerChannel>(channel);
      conn->latencies.reserve(1 << 20);
      for (int i = 0; i < inflight; ++i) {
        auto chain = std::make_unique<Chain>();
        chain->run = this;
        chain->conn = conn.get();
        chains_.push_back(std::move(chain));
      }
      conns_.push_back(std::move(conn));
    }
  }

  absl::Status Run(std::vector<int64_t>* latencies) {
    for (auto& chain : chains_) Issue(chain.get());
    finished_.Wait();
    for (const auto& conn : conns_) {
      latencies->insert(latencies->end(), conn->latencies.begin(), conn->latencies.end());
    }
    std::lock_guard<std::mutex> lock(mu_);
    return first_error_;
  }

 private:
  struct PerChannel {
    explicit PerChannel(Channel* channel) : stub(channel) {}
    EchoService::Stub stub;
    std::vector<int64_t> latencies;
  };
  // One call outstanding at a time; each completion starts the next until the deadline.
  struct Chain {
    AsyncRun* run;
    PerChannel* conn;
    std::unique_ptr<ClientContext> context;  // one per call
    BytesRequest request;
    BytesReply reply;
    Clock::time_point start;
  };

  void Issue(Chain* chain) {
    chain->context = std::make_unique<ClientContext>();
    chain->context->set_request_attachment(payload_);
    chain->start = Clock::now();
    chain->conn->stub.BytesAsync(
        chain->context.get(), chain->request, &chain->reply,
        [chain](absl::Status status) { chain->run->OnDone(chain, std::move(status)); });
  }

  // On the channel's I/O thread.
  void OnDone(Chain* chain, absl::Status status) {
    const Clock::time_point now = Clock::now();
    if (status.ok()) status = CheckEcho(payload_, chain->context->response_attachment());
    if (!status.ok()) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (first_error_.ok()) first_error_ = std::move(status);
      }
      finished_.DecrementCount();
      return;
    }
    if (now >= deadline_) {
      finished_.DecrementCount();
      return;
    }
    chain->conn->latencies.push_back(Nanos(now - chain->start));
    Issue(chain);
  }

  const std::string payload_;
  const Clock::time_point deadline_;
  BlockingCounter finished_;
  std::vector<std::unique_ptr<PerChannel>> conns_;
  std::vector<std::unique_ptr<Chain>> chains_;
  std::mutex mu_;
  absl::Status first_error_;  // guarded by mu_
};

}  // namespace

absl::StatusOr<Samples> RunRpcBlocking(Channel* channel, size_t payload_bytes,
                                       absl::Duration duration, absl::Duration gap) {
  const std::string payload = MakePayload(payload_bytes);
  EchoService::Stub stub(channel);
  BytesRequest request;
  BytesReply reply;
  std::vector<int64_t> latencies;
  latencies.reserve(1 << 20);
  const Clock::time_point deadline = Clock::now() + absl::ToChronoNanoseconds(duration);
  for (Clock::time_point start = Clock::now(); start < deadline; start = Clock::now()) {
    ClientContext context;
    context.set_request_attachment(payload);
    absl::Status status = stub.Bytes(&context, request, &reply);
    if (status.ok()) status = CheckEcho(payload, context.response_attachment());
    if (!status.ok()) return status;
    latencies.push_back(Nanos(Clock::now() - start));
    if (gap > absl::ZeroDuration()) {
      std::this_thread::sleep_until(start + absl::ToChronoNanoseconds(gap));  // pacing
    }
  }
  return Samples{std::move(latencies), duration};
}

absl::StatusOr<Samples> RunRpcSayBlocking(Channel* channel, size_t payload_bytes,
                                          absl::Duration duration) {
  EchoService::Stub stub(channel);
  echo::SayRequest request;
  request.set_text(MakePayload(payload_bytes));
  echo::SayReply reply;
  std::vector<int64_t> latencies;
  latencies.reserve(1 << 20);
  const Clock::time_point deadline = Clock::now() + absl::ToChronoNanoseconds(duration);
  for (Clock::time_point start = Clock::now(); start < deadline; start = Clock::now()) {
    ClientContext context;
    absl::Status status = stub.Say(&context, request, &reply);
    if (status.ok()) status = CheckEcho(request.text(), reply.text());
    if (!status.ok()) return status;
    latencies.push_back(Nanos(Clock::now() - start));
  }
  return Samples{std::move(latencies), duration};
}

absl::StatusOr<Samples> RunRpcAsync(const std::vector<Channel*>& channels, size_t payload_bytes,
                                    int inflight, absl::Duration duration) {
  if (channels.empty() || inflight < 1) {
    return absl::InvalidArgumentError("need at least one channel and one call in flight");
  }
  const Clock::time_point deadline = Clock::now() + absl::ToChronoNanoseconds(duration);
  AsyncRun run(channels, payload_bytes, inflight, deadline);
  std::vector<int64_t> latencies;
  absl::Status status = run.Run(&latencies);
  if (!status.ok()) return status;
  return Samples{std::move(latencies), duration};
}

}  // namespace framerpc::bench

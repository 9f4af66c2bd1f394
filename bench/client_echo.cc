// client_echo: one-at-a-time blocking Say calls against a running server, for comparing client
// implementations on the same server (bench/clients_bench.sh); with --attachment_bytes, Bytes
// calls with an attachment of that size instead (what a server spends per large message, watched
// from outside: perf stat -p, docs/benchmarks.md). Prints one line:
//   calls_per_sec=<n> p50_us=<x>
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/time/clock.h"
#include "proto/echo.frpc.h"
#include "rpc/channel.h"

ABSL_FLAG(std::string, address, "", "Server address.");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(2), "Measured time.");
ABSL_FLAG(int, text_bytes, 64, "Bytes of text per Say.");
ABSL_FLAG(int, attachment_bytes, 0, "> 0: Bytes calls with an attachment of this size, not Say.");
ABSL_FLAG(int, warmup_calls, 1000, "Unmeasured calls first (connection, allocator).");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  auto channel = framerpc::Channel::Create(absl::GetFlag(FLAGS_address));
  if (!channel.ok()) {
    std::fprintf(stderr, "%s\n", channel.status().ToString().c_str());
    return 1;
  }
  framerpc::echo::EchoService::Stub stub(channel->get());
  framerpc::echo::SayRequest request;
  request.set_text(std::string(absl::GetFlag(FLAGS_text_bytes), 'x'));
  framerpc::echo::SayReply reply;
  const int attachment_bytes = absl::GetFlag(FLAGS_attachment_bytes);
  const std::string attachment(std::max(attachment_bytes, 0), 'a');
  framerpc::echo::BytesRequest bytes_request;
  framerpc::echo::BytesReply bytes_reply;
  auto call = [&]() -> absl::Status {
    framerpc::ClientContext context;
    if (attachment_bytes <= 0) return stub.Say(&context, request, &reply);
    context.set_request_attachment(attachment);
    absl::Status status = stub.Bytes(&context, bytes_request, &bytes_reply);
    if (status.ok() && context.response_attachment().size() != attachment.size()) {
      return absl::DataLossError("short echo");
    }
    reply.set_text(request.text());  // the check below is Say's
    return status;
  };
  for (int i = 0; i < absl::GetFlag(FLAGS_warmup_calls); ++i) {  // warm-up: connection, allocator
    if (!call().ok()) return 1;
  }
  std::vector<double> latencies;
  const absl::Time start = absl::Now();
  const absl::Time end = start + absl::GetFlag(FLAGS_duration);
  absl::Time now = start;
  while (now < end) {
    const absl::Time before = now;
    absl::Status status = call();
    if (!status.ok() || reply.text().size() != request.text().size()) {
      std::fprintf(stderr, "call failed: %s\n", status.ToString().c_str());
      return 1;
    }
    now = absl::Now();
    latencies.push_back(absl::ToDoubleMicroseconds(now - before));
  }
  std::sort(latencies.begin(), latencies.end());
  std::printf("calls_per_sec=%.0f p50_us=%.1f\n",
              latencies.size() / absl::ToDoubleSeconds(now - start),
              latencies[latencies.size() / 2]);
  return 0;
}

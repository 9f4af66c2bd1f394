// client_echo: one-at-a-time blocking Say calls against a running server, for comparing client
// implementations on the same server (bench/clients_bench.sh). Prints one line:
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
  auto call = [&] {
    framerpc::ClientContext context;
    return stub.Say(&context, request, &reply);
  };
  for (int i = 0; i < 1000; ++i) {  // warm-up: connection, allocator
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

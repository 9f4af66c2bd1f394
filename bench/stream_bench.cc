// stream_bench: bulk throughput of one framerpc stream on one connection (64 KiB messages by
// default), against a raw loopback TCP bulk transfer measured in the same run: a thread writing
// the same bytes in the same write sizes into a plain socket, and a reader draining it.
//
//   bazel build //bench:stream_bench && bazel-bin/bench/stream_bench --mib=512 --rounds=3
//
// Rows take turns in each round so that noise from elsewhere on the machine hits all alike; the
// table shows each row's median rate and the median of its per-round ratios to the floor.
// --only=N runs row N alone (1 = the floor), e.g. under `perf stat` to count CPU time and
// context switches per byte, which are steadier than rates on a shared VM.
#include <algorithm>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/notification.h"
#include "bench/raw_bulk.h"
#include "bench/stream_bench.frpc.h"
#include "rpc/channel.h"
#include "rpc/server.h"

ABSL_FLAG(int, mib, 512, "MiB transferred per row and round.");
ABSL_FLAG(int, rounds, 3, "Rounds; the table shows medians.");
ABSL_FLAG(int, message_kib, 64, "Message (and raw write) size in KiB.");
ABSL_FLAG(int, only, 0, "Run only this row (1-5) and print its rate; 0 runs the table.");

namespace framerpc::bench {
namespace {

class StreamBenchImpl final : public StreamBench::Service {
 public:
  absl::Status Pull(ServerContext*, const PullRequest& request,
                    ServerWriter<Block>* writer) override {
    const std::string data(request.message_bytes(), 'd');
    Block block;
    if (request.in_message()) block.set_data(data);
    const Block empty;
    for (uint64_t i = 0; i < request.messages(); ++i) {
      const bool ok = request.in_message() ? writer->Write(block) : writer->Write(empty, data);
      if (!ok) return absl::CancelledError("reader went away");
    }
    return absl::OkStatus();
  }

  absl::Status Push(ServerContext*, ServerReader<Block>* reader, PushReply* reply) override {
    Block block;
    std::string attachment;
    uint64_t bytes = 0;
    while (reader->Read(&block, &attachment)) bytes += block.data().size() + attachment.size();
    reply->set_bytes(bytes);
    return absl::OkStatus();
  }
};

absl::StatusOr<double> Pull(StreamBench::Stub* stub, size_t total, size_t chunk, bool in_message) {
  ClientContext context;
  PullRequest request;
  request.set_messages(total / chunk);
  request.set_message_bytes(static_cast<uint32_t>(chunk));
  request.set_in_message(in_message);
  const absl::Time start = absl::Now();
  auto reader = stub->Pull(&context, request);
  Block block;
  std::string attachment;
  size_t received = 0;
  while (reader->Read(&block, &attachment)) received += block.data().size() + attachment.size();
  absl::Status status = reader->Finish();
  if (!status.ok()) return status;
  if (received != total) return absl::InternalError("stream ended early");
  return total / (1024.0 * 1024.0) / absl::ToDoubleSeconds(absl::Now() - start);
}

// As Pull with attachments, reading with callbacks: each ReadAsync completes on the channel's I/O
// thread, which starts the next read, so no thread is woken per message.
absl::StatusOr<double> PullWithCallbacks(StreamBench::Stub* stub, size_t total, size_t chunk) {
  ClientContext context;
  PullRequest request;
  request.set_messages(total / chunk);
  request.set_message_bytes(static_cast<uint32_t>(chunk));
  const absl::Time start = absl::Now();
  auto reader = stub->Pull(&context, request);
  struct ReadLoop {
    explicit ReadLoop(ClientReader<Block>* r) : reader(r) {}
    ClientReader<Block>* reader;
    Block block;
    std::string attachment;
    size_t received = 0;
    Notification done;
    void Next() {
      reader->ReadAsync(&block, &attachment, [this](bool ok) {
        if (!ok) {
          done.Notify();
          return;
        }
        received += attachment.size();
        Next();
      });
    }
  } loop(reader.get());
  loop.Next();
  loop.done.WaitForNotification();
  absl::Status status = reader->Finish();
  if (!status.ok()) return status;
  if (loop.received != total) return absl::InternalError("stream ended early");
  return total / (1024.0 * 1024.0) / absl::ToDoubleSeconds(absl::Now() - start);
}

absl::StatusOr<double> Push(StreamBench::Stub* stub, size_t total, size_t chunk) {
  ClientContext context;
  PushReply reply;
  const std::string data(chunk, 'd');
  const Block empty;
  const absl::Time start = absl::Now();
  auto writer = stub->Push(&context, &reply);
  for (size_t sent = 0; sent < total; sent += chunk) {
    if (!writer->Write(empty, data)) break;
  }
  absl::Status status = writer->Finish();
  if (!status.ok()) return status;
  if (reply.bytes() != total) return absl::InternalError("server received a short stream");
  return total / (1024.0 * 1024.0) / absl::ToDoubleSeconds(absl::Now() - start);
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

int Main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const size_t chunk = static_cast<size_t>(absl::GetFlag(FLAGS_message_kib)) << 10;
  const size_t total = (static_cast<size_t>(absl::GetFlag(FLAGS_mib)) << 20) / chunk * chunk;

  ServerOptions options;
  options.io_threads = 1;
  Server server(options);
  StreamBenchImpl service;
  absl::Status status = server.AddService(&service);
  if (status.ok()) status = server.AddListener("127.0.0.1:0");
  if (status.ok()) status = server.Start();
  absl::StatusOr<std::unique_ptr<Channel>> channel =
      status.ok() ? Channel::Create(server.listen_address(0))
                  : absl::StatusOr<std::unique_ptr<Channel>>(status);
  if (!channel.ok()) {
    std::fprintf(stderr, "setup: %s\n", channel.status().ToString().c_str());
    return 1;
  }
  StreamBench::Stub stub(channel->get());

  struct Row {
    std::string name;
    std::function<absl::StatusOr<double>()> run;
    std::vector<double> rates;
  };
  std::vector<Row> rows = {
      {"raw TCP bulk (floor)", [&] { return RawBulk(total, chunk); }, {}},
      {"server-streaming, data as attachment", [&] { return Pull(&stub, total, chunk, false); }, {}},
      {"server-streaming, data in a bytes field", [&] { return Pull(&stub, total, chunk, true); }, {}},
      {"client-streaming, data as attachment", [&] { return Push(&stub, total, chunk); }, {}},
      {"server-streaming, attachment, callback reads (ReadAsync)",
       [&] { return PullWithCallbacks(&stub, total, chunk); }, {}},
  };
  if (const int only = absl::GetFlag(FLAGS_only); only != 0) {
    if (only < 1 || only > static_cast<int>(rows.size())) {
      std::fprintf(stderr, "--only must be 1-%zu\n", rows.size());
      return 1;
    }
    for (int round = 0; round < absl::GetFlag(FLAGS_rounds); ++round) {
      absl::StatusOr<double> rate = rows[only - 1].run();
      if (!rate.ok()) {
        std::fprintf(stderr, "%s\n", rate.status().ToString().c_str());
        return 1;
      }
      std::printf("%s: %.0f MiB/s\n", rows[only - 1].name.c_str(), *rate);
    }
    server.Shutdown(absl::Seconds(5));
    return 0;
  }
  for (int round = 0; round < absl::GetFlag(FLAGS_rounds); ++round) {
    for (Row& row : rows) {
      absl::StatusOr<double> rate = row.run();
      if (!rate.ok()) {
        std::fprintf(stderr, "%s: %s\n", row.name.c_str(), rate.status().ToString().c_str());
        return 1;
      }
      row.rates.push_back(*rate);
    }
  }
  // The floor itself moves by up to 2x between rounds on this kind of VM (where the scheduler puts
  // the two threads), so each row is compared with the floor of its own round, run just before
  // it: "x floor" is the median of those per-round ratios, and the range shows their spread.
  std::printf("\none stream on one connection, %zu KiB messages, %zu MiB per row, median of %d\n\n",
              chunk >> 10, total >> 20, absl::GetFlag(FLAGS_rounds));
  std::printf("| row | MiB/s (median) | MiB/s (min-max) | x floor (median of rounds) | x floor (min-max) |\n"
              "|---|---:|---:|---:|---:|\n");
  for (const Row& row : rows) {
    std::vector<double> ratios;
    for (size_t i = 0; i < row.rates.size(); ++i) ratios.push_back(row.rates[i] / rows[0].rates[i]);
    std::printf("| %s | %.0f | %.0f-%.0f | %.2f | %.2f-%.2f |\n", row.name.c_str(),
                Median(row.rates), *std::min_element(row.rates.begin(), row.rates.end()),
                *std::max_element(row.rates.begin(), row.rates.end()), Median(ratios),
                *std::min_element(ratios.begin(), ratios.end()),
                *std::max_element(ratios.begin(), ratios.end()));
  }
  server.Shutdown(absl::Seconds(5));
  return 0;
}

}  // namespace
}  // namespace framerpc::bench

int main(int argc, char** argv) { return framerpc::bench::Main(argc, argv); }

// grpc_compare_bench: the same workloads over the framed transport and over gRPC (the adapter in
// adapters/grpc serving the same service objects), in one run, with the raw-socket floors, and
// one table of ratios framed / gRPC (issue 5).
//
//   bazel build //bench:grpc_compare_bench && bazel-bin/bench/grpc_compare_bench --duration=1s
//
// Unary rows: EchoService.Say with a text of the payload size (gRPC has no raw attachment, so both
// sides carry the payload in the message), K calls in flight on one connection, each completion
// starting the next call (framed: Stub::SayAsync on a Channel; gRPC: the generic stub's async
// unary call on one grpc::Channel, completions on one CompletionQueue thread). Stream rows: one
// server-streaming call pulling 64 KiB messages (in a bytes field on both). Rows take turns in
// each of --rounds rounds; the table shows the merged samples. Bulk rows: one server-streaming
// call of 64 KiB messages, and a --file_mib download through the file service (the framed side
// gets the data as attachments, gRPC in the messages' bytes field), each against a raw loopback
// TCP transfer of the same size measured in the same run; medians of --rounds.
#include <stdlib.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "adapters/grpc/grpc_adapter.h"
#include "base/notification.h"
#include "bench/raw_bulk.h"
#include "bench/raw_echo.h"
#include "bench/stats.h"
#include "bench/stream_bench.frpc.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/impl/codegen/proto_utils.h"
#include "grpcpp/security/credentials.h"
#include "proto/echo.frpc.h"
#include "rpc/channel.h"
#include "rpc/server.h"
#include "services/echo/echo_service.h"
#include "services/file/file.frpc.h"
#include "services/file/file_client.h"
#include "services/file/file_service.h"
#include "transport/event_loop.h"
#include "transport/tls/test_pki.h"
#include "transport/tls/tls_context.h"

ABSL_FLAG(absl::Duration, duration, absl::Seconds(1), "Measured time per row and round.");
ABSL_FLAG(int, rounds, 3, "Rounds; rows take turns within each.");
ABSL_FLAG(std::vector<std::string>, sizes, std::vector<std::string>({"64", "4096", "65536"}),
          "Unary payload sizes in bytes.");
ABSL_FLAG(std::vector<std::string>, inflight, std::vector<std::string>({"1", "8", "64"}),
          "Calls in flight on the one connection.");
ABSL_FLAG(int, stream_mib, 256, "MiB per stream-throughput measurement.");
ABSL_FLAG(bool, tls, true,
          "Also unary rows over TLS 1.3: a framed TLS listener and the gRPC adapter's own TLS "
          "port, with a certificate made at start (issue 14's framed-vs-gRPC-over-TLS target).");
ABSL_FLAG(int, file_mib, 1024, "Size of the downloaded file in MiB; 0 skips the download rows.");
ABSL_FLAG(absl::Duration, busy_poll, absl::Microseconds(50),
          "Busy-poll window of the extra framed unary rows (ServerOptions/ChannelOptions::busy_poll) "
          "and reason for the spinning raw floor; 0 skips both.");
ABSL_FLAG(int64_t, download_window_kib, framerpc::file::kDownloadReceiveWindowBytes >> 10,
          "Stream receive window of the framed downloads, in KiB (default: what the file "
          "client asks for; 0: the channel's 1 MiB).");

namespace framerpc::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr char kSay[] = "/framerpc.echo.EchoService/Say";
constexpr char kPull[] = "/framerpc.bench.StreamBench/Pull";

int64_t Nanos(Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

// Pull as on stream_bench: `messages` blocks of `message_bytes`, here always in the bytes field.
class PullService final : public StreamBench::Service {
 public:
  absl::Status Pull(ServerContext*, const PullRequest& request,
                    ServerWriter<Block>* writer) override {
    Block block;
    block.set_data(std::string(request.message_bytes(), 'd'));
    for (uint64_t i = 0; i < request.messages(); ++i) {
      if (!writer->Write(block)) return absl::CancelledError("reader went away");
    }
    return absl::OkStatus();
  }
};

// ----- framed: K chains of SayAsync on one channel

absl::StatusOr<Samples> FramedUnary(Channel* channel, size_t bytes, int inflight,
                                    absl::Duration duration) {
  struct Chain {
    std::unique_ptr<ClientContext> context;
    echo::SayReply reply;
    Clock::time_point start;
  };
  echo::EchoService::Stub stub(channel);
  echo::SayRequest request;
  request.set_text(std::string(bytes, 'x'));
  const Clock::time_point deadline = Clock::now() + absl::ToChronoNanoseconds(duration);
  std::vector<Chain> chains(inflight);
  std::vector<int64_t> latencies;  // touched on the channel's I/O thread only, until done
  latencies.reserve(1 << 20);
  BlockingCounter done(inflight);
  std::mutex mu;
  absl::Status error;
  std::function<void(Chain*)> issue = [&](Chain* chain) {
    chain->context = std::make_unique<ClientContext>();
    chain->start = Clock::now();
    stub.SayAsync(chain->context.get(), request, &chain->reply, [&, chain](absl::Status status) {
      const Clock::time_point now = Clock::now();
      if (status.ok() && chain->reply.text().size() != bytes) {
        status = absl::DataLossError("short echo");
      }
      if (!status.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        error = status;
      }
      if (!status.ok() || now >= deadline) {
        done.DecrementCount();
        return;
      }
      latencies.push_back(Nanos(now - chain->start));
      issue(chain);
    });
  };
  for (Chain& chain : chains) issue(&chain);
  done.Wait();
  if (!error.ok()) return error;
  return Samples{std::move(latencies), duration};
}

// ----- gRPC: K chains of generic async unary calls on one channel, one completion thread

absl::StatusOr<Samples> GrpcUnary(const std::shared_ptr<grpc::Channel>& channel, size_t bytes,
                                  int inflight, absl::Duration duration) {
  using Stub = grpc::TemplatedGenericStub<echo::SayRequest, echo::SayReply>;
  struct Chain {
    std::unique_ptr<grpc::ClientContext> context;
    std::unique_ptr<grpc::ClientAsyncResponseReader<echo::SayReply>> call;
    echo::SayReply reply;
    grpc::Status status;
    Clock::time_point start;
  };
  Stub stub(channel);
  grpc::CompletionQueue cq;
  echo::SayRequest request;
  request.set_text(std::string(bytes, 'x'));
  auto issue = [&](Chain* chain) {
    chain->context = std::make_unique<grpc::ClientContext>();
    chain->start = Clock::now();
    chain->call = stub.PrepareUnaryCall(chain->context.get(), kSay, request, &cq);
    chain->call->StartCall();
    chain->call->Finish(&chain->reply, &chain->status, chain);
  };
  std::vector<Chain> chains(inflight);
  std::vector<int64_t> latencies;
  latencies.reserve(1 << 20);
  const Clock::time_point deadline = Clock::now() + absl::ToChronoNanoseconds(duration);
  for (Chain& chain : chains) issue(&chain);
  int running = inflight;
  absl::Status error;
  void* tag;
  bool ok;
  while (running > 0 && cq.Next(&tag, &ok)) {
    Chain* chain = static_cast<Chain*>(tag);
    const Clock::time_point now = Clock::now();
    if (!ok || !chain->status.ok() || chain->reply.text().size() != bytes) {
      error = absl::InternalError(absl::StrCat("gRPC call failed: ", chain->status.error_message()));
      --running;
      continue;
    }
    if (now >= deadline) {
      --running;
      continue;
    }
    latencies.push_back(Nanos(now - chain->start));
    issue(chain);
  }
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  if (!error.ok()) return error;
  return Samples{std::move(latencies), duration};
}

// ----- stream throughput, MiB/s as calls_per_sec of a one-sample Samples

double MiBPerSec(size_t bytes, Clock::duration elapsed) {
  return bytes / (1024.0 * 1024.0) / std::chrono::duration<double>(elapsed).count();
}

absl::StatusOr<double> FramedPull(Channel* channel, size_t total, size_t chunk) {
  StreamBench::Stub stub(channel);
  ClientContext context;
  PullRequest request;
  request.set_messages(total / chunk);
  request.set_message_bytes(static_cast<uint32_t>(chunk));
  request.set_in_message(true);
  const Clock::time_point start = Clock::now();
  auto reader = stub.Pull(&context, request);
  Block block;
  size_t received = 0;
  while (reader->Read(&block)) received += block.data().size();
  absl::Status status = reader->Finish();
  if (!status.ok()) return status;
  if (received != total / chunk * chunk) return absl::DataLossError("short stream");
  return MiBPerSec(received, Clock::now() - start);
}

// One server-streaming call through the generic stub: sends `request`, half-closes, and passes
// each reply to `on_message` until the end; returns the call's status. Each operation is waited
// for on the call's own completion queue.
template <typename Req, typename Resp>
absl::Status GrpcServerStream(const std::shared_ptr<grpc::Channel>& channel,
                              const std::string& method, const Req& request,
                              const std::function<void(const Resp&)>& on_message) {
  grpc::TemplatedGenericStub<Req, Resp> stub(channel);
  grpc::CompletionQueue cq;
  grpc::ClientContext context;
  auto wait = [&cq]() {
    void* tag;
    bool ok = false;
    return cq.Next(&tag, &ok) && ok;
  };
  auto call = stub.PrepareCall(&context, method, &cq);
  call->StartCall(nullptr);
  bool ok = wait();
  if (ok) {
    call->Write(request, nullptr);
    ok = wait();
  }
  if (ok) {
    call->WritesDone(nullptr);
    ok = wait();
  }
  Resp message;
  while (ok) {
    call->Read(&message, nullptr);
    if (!wait()) break;
    on_message(message);
  }
  grpc::Status status;
  call->Finish(&status, nullptr);
  wait();
  cq.Shutdown();
  void* tag;
  bool more;
  while (cq.Next(&tag, &more)) {
  }
  if (!status.ok()) return absl::InternalError(status.error_message());
  return ok ? absl::OkStatus() : absl::UnavailableError("gRPC stream did not start");
}

absl::StatusOr<double> GrpcPull(const std::shared_ptr<grpc::Channel>& channel, size_t total,
                                size_t chunk) {
  PullRequest request;
  request.set_messages(total / chunk);
  request.set_message_bytes(static_cast<uint32_t>(chunk));
  request.set_in_message(true);
  size_t received = 0;
  const Clock::time_point start = Clock::now();
  absl::Status status = GrpcServerStream<PullRequest, Block>(
      channel, kPull, request, [&received](const Block& block) { received += block.data().size(); });
  if (!status.ok()) return status;
  if (received != total / chunk * chunk) return absl::DataLossError("short gRPC stream");
  return MiBPerSec(received, Clock::now() - start);
}

// ----- 1 GiB file download through the file service

absl::StatusOr<double> FramedDownload(Channel* channel, const std::string& path, size_t size) {
  file::FileService::Stub stub(channel);
  ClientContext context;
  context.set_stream_receive_window(absl::GetFlag(FLAGS_download_window_kib) << 10);
  file::DownloadRequest request;
  request.set_path(path);
  const Clock::time_point start = Clock::now();
  auto reader = stub.Download(&context, request);
  file::DownloadResponse message;
  std::string data;
  size_t received = 0;
  while (reader->Read(&message, &data)) received += data.size();
  absl::Status status = reader->Finish();
  if (!status.ok()) return status;
  if (received != size) return absl::DataLossError("short framed download");
  return MiBPerSec(received, Clock::now() - start);
}

absl::StatusOr<double> GrpcDownload(const std::shared_ptr<grpc::Channel>& channel,
                                    const std::string& path, size_t size) {
  file::DownloadRequest request;
  request.set_path(path);
  size_t received = 0;
  const Clock::time_point start = Clock::now();
  absl::Status status = GrpcServerStream<file::DownloadRequest, file::DownloadResponse>(
      channel, "/framerpc.file.FileService/Download", request,
      [&received](const file::DownloadResponse& message) { received += message.data().size(); });
  if (!status.ok()) return status;
  if (received != size) return absl::DataLossError("short gRPC download");
  return MiBPerSec(received, Clock::now() - start);
}

// A file of `bytes` pseudo-random bytes (so that nothing compresses or is sparse) in `dir`.
absl::Status WriteTestFile(const std::string& path, size_t bytes) {
  FILE* out = std::fopen(path.c_str(), "wb");
  if (out == nullptr) return absl::InternalError("cannot create " + path);
  std::string block(1 << 20, '\0');
  uint64_t x = 88172645463325252ull;
  for (size_t written = 0; written < bytes; written += block.size()) {
    for (size_t i = 0; i < block.size(); i += 8) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      std::memcpy(&block[i], &x, 8);
    }
    std::fwrite(block.data(), 1, std::min(block.size(), bytes - written), out);
  }
  return std::fclose(out) == 0 ? absl::OkStatus() : absl::InternalError("write failed");
}

// CPU time this process has used (user + system), in nanoseconds: every thread of both ends of
// the row being measured, since client and server share the process.
int64_t ProcessCpuNanos() {
  rusage usage;
  ::getrusage(RUSAGE_SELF, &usage);
  return (int64_t{usage.ru_utime.tv_sec} + usage.ru_stime.tv_sec) * 1000000000 +
         (int64_t{usage.ru_utime.tv_usec} + usage.ru_stime.tv_usec) * 1000;
}

// The whole of a PEM file (the test CA's certificate, for gRPC's SSL credentials).
std::string ReadPem(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

struct Row {
  std::string name;
  std::function<absl::StatusOr<Samples>()> run;
  Samples samples;
  int64_t cpu_ns = 0;
};

int Main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const absl::Duration duration = absl::GetFlag(FLAGS_duration);

  ServerOptions options;
  options.io_threads = 1;
  Server server(options);
  echo::EchoServiceImpl echo;
  PullService pull;
  char root[] = "/tmp/frpc-grpc-bench-XXXXXX";
  if (::mkdtemp(root) == nullptr) return 1;
  // Two file services on the same root: the main server's hashes every download (its digest cache
  // is off), the second server's keeps digests (services/file/digest_cache.h). Its racy margin is
  // 0 so that the first, unmeasured download of the bench's file, written moments before, stores
  // the digest; a real server waits 2 s for that.
  file::FileServiceOptions hashing_options;
  hashing_options.digest_cache.max_entries = 0;
  auto files = file::FileServiceImpl::Create(root, hashing_options);
  file::FileServiceOptions caching_options;
  caching_options.digest_cache.racy_margin = absl::ZeroDuration();
  auto cached_files = file::FileServiceImpl::Create(root, caching_options);
  if (!files.ok() || !cached_files.ok()) {
    std::fprintf(stderr, "%s %s\n", files.status().ToString().c_str(),
                 cached_files.status().ToString().c_str());
    return 1;
  }
  GrpcAdapterOptions grpc_options;
  grpc_options.handler_threads = 1;
  GrpcAdapter adapter(server.dispatcher(), grpc_options);
  Server cached_server(options);
  GrpcAdapter cached_adapter(cached_server.dispatcher(), grpc_options);
  absl::Status status = server.AddService(&echo);
  if (status.ok()) status = server.AddService(&pull);
  if (status.ok()) status = server.AddService(files->get(), ServiceOptions{.run_inline = false});
  if (status.ok()) status = server.AddListener("127.0.0.1:0");
  if (status.ok()) status = server.Start();
  if (status.ok()) status = adapter.Start();
  if (status.ok()) {
    status = cached_server.AddService(cached_files->get(), ServiceOptions{.run_inline = false});
  }
  if (status.ok()) status = cached_server.AddListener("127.0.0.1:0");
  if (status.ok()) status = cached_server.Start();
  if (status.ok()) status = cached_adapter.Start();
  if (!status.ok()) {
    std::fprintf(stderr, "setup: %s\n", status.ToString().c_str());
    return 1;
  }
  ChannelOptions channel_options;
  channel_options.max_sync_connections = 0;
  auto channel = Channel::Create(server.listen_address(0), channel_options);
  if (!channel.ok()) return 1;
  // The busy-polling framed rows: an echo server and a channel that poll before they sleep.
  const absl::Duration busy_poll = absl::GetFlag(FLAGS_busy_poll);
  if (absl::Status valid = ValidateBusyPoll(busy_poll); !valid.ok()) {
    std::fprintf(stderr, "--busy_poll: %s\n", valid.ToString().c_str());
    return 2;
  }
  ServerOptions polled_options = options;
  polled_options.busy_poll = busy_poll;
  Server polled_server(polled_options);
  std::unique_ptr<Channel> polled_channel;
  if (busy_poll > absl::ZeroDuration()) {
    status = polled_server.AddService(&echo);
    if (status.ok()) status = polled_server.AddListener("127.0.0.1:0");
    if (status.ok()) status = polled_server.Start();
    ChannelOptions polled_channel_options = channel_options;
    polled_channel_options.busy_poll = busy_poll;
    absl::StatusOr<std::unique_ptr<Channel>> created =
        status.ok() ? Channel::Create(polled_server.listen_address(0), polled_channel_options)
                    : absl::StatusOr<std::unique_ptr<Channel>>(status);
    if (!created.ok()) {
      std::fprintf(stderr, "busy-poll setup: %s\n", created.status().ToString().c_str());
      return 1;
    }
    polled_channel = *std::move(created);
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  std::shared_ptr<grpc::Channel> grpc_channel = grpc::CreateCustomChannel(
      absl::StrCat("127.0.0.1:", adapter.listen_port()), grpc::InsecureChannelCredentials(), args);
  auto cached_channel = Channel::Create(cached_server.listen_address(0), channel_options);
  if (!cached_channel.ok()) return 1;
  std::shared_ptr<grpc::Channel> cached_grpc_channel = grpc::CreateCustomChannel(
      absl::StrCat("127.0.0.1:", cached_adapter.listen_port()), grpc::InsecureChannelCredentials(),
      args);

  // TLS 1.3 on both transports: a framed server with a TLS-only listener and its gRPC adapter
  // on a TLS port of its own, the same certificate (made now, test_pki) and echo service.
  TestCa ca(TestPkiDir("framerpc-grpc-bench"), "bench");
  TestCertSpec cert_spec;
  cert_spec.ips = {"127.0.0.1"};
  const TestCertFiles cert = ca.Issue("server", cert_spec);
  TlsServerOptions server_tls;
  server_tls.cert_chain_file = cert.cert;
  server_tls.private_key_file = cert.key;
  Server tls_server(options);
  GrpcAdapterOptions tls_grpc_options = grpc_options;
  tls_grpc_options.tls = server_tls;
  GrpcAdapter tls_adapter(tls_server.dispatcher(), tls_grpc_options);
  std::unique_ptr<Channel> tls_channel;
  std::shared_ptr<grpc::Channel> tls_grpc_channel;
  if (absl::GetFlag(FLAGS_tls)) {
    absl::StatusOr<std::shared_ptr<TlsContext>> tls_context = TlsContext::NewServer(server_tls);
    status = tls_context.status();
    if (status.ok()) {
      tls_server.SetTlsContext(*tls_context);
      status = tls_server.AddService(&echo);
    }
    if (status.ok()) status = tls_server.AddListener("127.0.0.1:0", Server::ListenerTls::kRequired);
    if (status.ok()) status = tls_server.Start();
    if (status.ok()) status = tls_adapter.Start();
    ChannelOptions tls_channel_options = channel_options;
    tls_channel_options.tls.emplace();
    tls_channel_options.tls->ca_file = ca.cert_file();
    absl::StatusOr<std::unique_ptr<Channel>> created =
        status.ok() ? Channel::Create(tls_server.listen_address(0), tls_channel_options)
                    : absl::StatusOr<std::unique_ptr<Channel>>(status);
    if (!created.ok()) {
      std::fprintf(stderr, "TLS setup: %s\n", created.status().ToString().c_str());
      return 1;
    }
    tls_channel = *std::move(created);
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ReadPem(ca.cert_file());
    tls_grpc_channel = grpc::CreateCustomChannel(
        absl::StrCat("127.0.0.1:", tls_adapter.listen_port()), grpc::SslCredentials(ssl), args);
  }

  std::printf("grpc_compare_bench: framed transport vs gRPC adapter, same service objects, one "
              "connection each, server io threads 1, gRPC handler threads 1, %s x %d rounds\n",
              absl::FormatDuration(duration).c_str(), absl::GetFlag(FLAGS_rounds));
  std::printf("\nUnary echo. CPU us/call: user + system time of the whole process (both ends) "
              "per call. Busy-poll rows: framed server and channel with busy_poll = %s; the "
              "spinning floor's two threads poll their sockets without ever sleeping.\n",
              absl::FormatDuration(busy_poll).c_str());
  std::printf("\n| payload | in flight | row | calls/s | p50 us | p99 us | CPU us/call | "
              "calls/s vs gRPC | p99 vs gRPC |\n");
  std::printf("|---:|---:|---|---:|---:|---:|---:|---:|---:|\n");
  for (const std::string& size_text : absl::GetFlag(FLAGS_sizes)) {
    size_t bytes = 0;
    if (!absl::SimpleAtoi(size_text, &bytes)) return 2;
    for (const std::string& k_text : absl::GetFlag(FLAGS_inflight)) {
      int k = 0;
      if (!absl::SimpleAtoi(k_text, &k) || k < 1) return 2;
      auto raw = [&, bytes, k](RawWait wait) {
        return k == 1 ? RunRawPingPong(bytes, duration, wait)
                      : RunRawPipelined(bytes, 1, k, duration, wait);
      };
      std::vector<Row> rows;
      rows.push_back({"raw TCP floor", [&] { return raw(RawWait::kBlock); }, {}});
      if (polled_channel != nullptr) {
        rows.push_back({"raw TCP floor, spinning", [&] { return raw(RawWait::kSpin); }, {}});
      }
      rows.push_back({"framed", [&] { return FramedUnary(channel->get(), bytes, k, duration); }, {}});
      if (polled_channel != nullptr) {
        rows.push_back({absl::StrCat("framed, busy-poll ", absl::FormatDuration(busy_poll)),
                        [&] { return FramedUnary(polled_channel.get(), bytes, k, duration); },
                        {}});
      }
      if (tls_channel != nullptr) {
        rows.push_back(
            {"framed, TLS", [&] { return FramedUnary(tls_channel.get(), bytes, k, duration); }, {}});
        rows.push_back(
            {"gRPC, TLS", [&] { return GrpcUnary(tls_grpc_channel, bytes, k, duration); }, {}});
      }
      rows.push_back({"gRPC", [&] { return GrpcUnary(grpc_channel, bytes, k, duration); }, {}});
      for (Row& row : rows) {  // warm-up
        if (absl::StatusOr<Samples> s = row.run(); !s.ok()) {
          std::fprintf(stderr, "%s: %s\n", row.name.c_str(), s.status().ToString().c_str());
          return 1;
        }
      }
      for (int round = 0; round < absl::GetFlag(FLAGS_rounds); ++round) {
        for (Row& row : rows) {
          const int64_t cpu_before = ProcessCpuNanos();
          absl::StatusOr<Samples> s = row.run();
          row.cpu_ns += ProcessCpuNanos() - cpu_before;
          if (!s.ok()) {
            std::fprintf(stderr, "%s: %s\n", row.name.c_str(), s.status().ToString().c_str());
            return 1;
          }
          row.samples.Append(*std::move(s));
        }
      }
      std::vector<RowResult> results;
      for (Row& row : rows) results.push_back(Summarize(std::move(row.samples)));
      const RowResult& grpc = results.back();
      for (size_t i = 0; i < rows.size(); ++i) {
        const RowResult& r = results[i];
        std::printf("| %zu B | %d | %s | %.0f | %.1f | %.1f | %.1f | %.2fx | %.2fx |\n", bytes, k,
                    rows[i].name.c_str(), r.calls_per_sec, r.p50_us, r.p99_us,
                    r.calls > 0 ? rows[i].cpu_ns / 1000.0 / r.calls : 0.0,
                    Ratio(r.calls_per_sec, grpc.calls_per_sec), Ratio(r.p99_us, grpc.p99_us));
      }
      if (tls_channel != nullptr) {
        const RowResult& framed_tls = results[results.size() - 3];
        const RowResult& grpc_tls = results[results.size() - 2];
        const double ratio = Ratio(framed_tls.calls_per_sec, grpc_tls.calls_per_sec);
        const char* verdict = k < 64 ? "the target, >= 3x, is at 64 in flight"
                              : ratio >= 3.0 ? "target >= 3x: met"
                                             : "target >= 3x: MISSED";
        std::printf("| %zu B | %d | framed TLS / gRPC TLS, calls/s | %.2fx (%s) | | | | | |\n",
                    bytes, k, ratio, verdict);
      }
      std::fflush(stdout);
    }
  }

  const size_t chunk = 64 << 10;
  const size_t total = static_cast<size_t>(absl::GetFlag(FLAGS_stream_mib)) << 20;
  std::vector<double> floor_rates, framed_rates, grpc_rates;
  for (int round = 0; round < absl::GetFlag(FLAGS_rounds); ++round) {
    absl::StatusOr<double> floor = RawBulk(total, chunk);
    absl::StatusOr<double> framed = FramedPull(channel->get(), total, chunk);
    absl::StatusOr<double> grpc = GrpcPull(grpc_channel, total, chunk);
    if (!floor.ok() || !framed.ok() || !grpc.ok()) {
      std::fprintf(stderr, "stream: %s %s %s\n", floor.status().ToString().c_str(),
                   framed.status().ToString().c_str(), grpc.status().ToString().c_str());
      return 1;
    }
    floor_rates.push_back(*floor);
    framed_rates.push_back(*framed);
    grpc_rates.push_back(*grpc);
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::printf("\n| bulk | raw TCP floor MiB/s | framed MiB/s | gRPC MiB/s | framed/gRPC |\n");
  std::printf("|---|---:|---:|---:|---:|\n");
  std::printf("| server-streaming, one call, %zu MiB | %.0f | %.0f | %.0f | %.2fx |\n", total >> 20,
              median(floor_rates), median(framed_rates), median(grpc_rates),
              median(framed_rates) / median(grpc_rates));

  // The file download: one file of --file_mib, served from a root in /tmp (page cache).
  const size_t file_bytes = static_cast<size_t>(absl::GetFlag(FLAGS_file_mib)) << 20;
  if (file_bytes > 0) {
    const std::string path = std::string(root) + "/download.bin";
    if (absl::Status written = WriteTestFile(path, file_bytes); !written.ok()) {
      std::fprintf(stderr, "%s\n", written.ToString().c_str());
      return 1;
    }
    // Unmeasured: stores the digest in the caching service.
    if (absl::StatusOr<double> warm = FramedDownload(cached_channel->get(), "download.bin",
                                                     file_bytes);
        !warm.ok()) {
      std::fprintf(stderr, "warm-up download: %s\n", warm.status().ToString().c_str());
      return 1;
    }
    const uint64_t hashed_before = files->get()->tracker()->Snapshot().bytes_hashed;
    const uint64_t cached_hashed_before = cached_files->get()->tracker()->Snapshot().bytes_hashed;
    std::vector<double> file_floor, file_framed, file_grpc, cached_framed, cached_grpc;
    for (int round = 0; round < absl::GetFlag(FLAGS_rounds); ++round) {
      absl::StatusOr<double> floor = RawBulk(file_bytes, 256 << 10);
      absl::StatusOr<double> framed = FramedDownload(channel->get(), "download.bin", file_bytes);
      absl::StatusOr<double> grpc = GrpcDownload(grpc_channel, "download.bin", file_bytes);
      absl::StatusOr<double> framed_cached =
          FramedDownload(cached_channel->get(), "download.bin", file_bytes);
      absl::StatusOr<double> grpc_cached =
          GrpcDownload(cached_grpc_channel, "download.bin", file_bytes);
      for (const absl::Status& s : {floor.status(), framed.status(), grpc.status(),
                                    framed_cached.status(), grpc_cached.status()}) {
        if (!s.ok()) {
          std::fprintf(stderr, "download: %s\n", s.ToString().c_str());
          return 1;
        }
      }
      file_floor.push_back(*floor);
      file_framed.push_back(*framed);
      file_grpc.push_back(*grpc);
      cached_framed.push_back(*framed_cached);
      cached_grpc.push_back(*grpc_cached);
    }
    // What the servers hashed per measured download, from the file service's own counters.
    const double downloads = 2.0 * absl::GetFlag(FLAGS_rounds);
    const double hashed_mib =
        (files->get()->tracker()->Snapshot().bytes_hashed - hashed_before) / downloads / (1 << 20);
    const double cached_hashed_mib = (cached_files->get()->tracker()->Snapshot().bytes_hashed -
                                      cached_hashed_before) /
                                     downloads / (1 << 20);
    std::printf("| file download, %zu MiB, server hashes %.0f MiB per download | %.0f | %.0f | "
                "%.0f | %.2fx |\n",
                file_bytes >> 20, hashed_mib, median(file_floor), median(file_framed),
                median(file_grpc), median(file_framed) / median(file_grpc));
    std::printf("| file download, %zu MiB, cached digest: server hashes %.0f MiB per download | "
                "%.0f | %.0f | %.0f | %.2fx |\n",
                file_bytes >> 20, cached_hashed_mib, median(file_floor), median(cached_framed),
                median(cached_grpc), median(cached_framed) / median(cached_grpc));
    std::remove(path.c_str());
  }
  std::remove(root);

  cached_adapter.Shutdown(absl::Seconds(5));
  cached_server.Shutdown(absl::Seconds(5));
  adapter.Shutdown(absl::Seconds(5));
  server.Shutdown(absl::Seconds(5));
  polled_channel.reset();
  if (busy_poll > absl::ZeroDuration()) polled_server.Shutdown(absl::Seconds(5));
  return 0;
}

}  // namespace
}  // namespace framerpc::bench

int main(int argc, char** argv) { return framerpc::bench::Main(argc, argv); }

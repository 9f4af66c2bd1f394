// memory_bench: what large frames cost a real framerpc_server in resident memory, and whether it
// gives memory back. The server runs as its own process (so the client's buffers do not count),
// started from --server; its RSS and peak RSS (VmHWM, reset between cases through clear_refs)
// are read from /proc (bench/proc_stats.h). The floor is the frame itself: a 60 MiB request
// costs at least 60 MiB.
//
//   bazel build -c opt //server:framerpc_server //bench:memory_bench
//   bazel-bin/bench/memory_bench --server=bazel-bin/server/framerpc_server
//
// Cases: one 60 MiB Say (request and reply 60 MiB each), four at once, twenty peers that send
// 8 MiB of a 64 MiB frame and stall, and the RSS after the bursts while the server is idle.
#include <sys/socket.h>

#include <cstdio>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "bench/proc_stats.h"
#include "bench/server_process.h"
#include "proto/echo.pb.h"
#include "transport/frame_codec.h"
#include "transport/socket_address.h"
#include "transport/socket_ops.h"

ABSL_FLAG(std::string, server, "bazel-bin/server/framerpc_server", "framerpc_server to measure.");
ABSL_FLAG(std::vector<std::string>, server_args, {}, "Extra flags for the server.");
ABSL_FLAG(int, mib, 60, "Size of the large request, MiB.");

namespace framerpc {
namespace {

constexpr size_t kMiB = size_t{1} << 20;

std::string SayFrame(uint64_t call_id, size_t text_bytes) {
  Envelope envelope;
  envelope.set_kind(REQUEST);
  envelope.set_call_id(call_id);
  envelope.set_method("/framerpc.echo.EchoService/Say");
  echo::SayRequest request;
  request.set_text(std::string(text_bytes, 'm'));
  FrameLimits limits;
  limits.max_body_bytes = 1u << 30;
  std::string frame;
  if (!EncodeFrame(envelope, &request, {}, limits, &frame).ok()) std::exit(1);
  return frame;
}

ScopedFd Connect(const std::string& address) {
  return ConnectBlocking(SocketAddress::Parse(address).value()).value();
}

void SendAll(int fd, absl::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

// Reads one whole frame (the reply) and drops it.
void ReadReply(int fd) {
  std::string in;
  char buffer[1 << 16];
  for (;;) {
    if (in.size() >= kFrameHeaderSize) {
      const uint32_t body = (uint8_t(in[8]) << 24) | (uint8_t(in[9]) << 16) |
                            (uint8_t(in[10]) << 8) | uint8_t(in[11]);
      if (in.size() >= kFrameHeaderSize + body) return;
    }
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) return;
    in.append(buffer, static_cast<size_t>(n));
  }
}

void Row(const char* what, size_t bytes, size_t floor) {
  std::printf("%-52s %9.1f MiB  %5.2fx\n", what, static_cast<double>(bytes) / kMiB,
              floor == 0 ? 0.0 : static_cast<double>(bytes) / static_cast<double>(floor));
}

int Main() {
  const size_t mib = static_cast<size_t>(absl::GetFlag(FLAGS_mib));
  std::vector<std::string> args = {"--listen=127.0.0.1:0", "--io_threads=2",
                                   "--max_frame_bytes=134217728"};
  for (const std::string& a : absl::GetFlag(FLAGS_server_args)) args.push_back(a);
  absl::StatusOr<bench::ServerProcess> server =
      bench::ServerProcess::Start(absl::GetFlag(FLAGS_server), std::move(args));
  if (!server.ok()) {
    std::fprintf(stderr, "%s\n", server.status().ToString().c_str());
    return 1;
  }
  const pid_t pid = server->pid();
  const std::string address = server->address();
  absl::SleepFor(absl::Milliseconds(200));
  const size_t base = bench::ProcStatusBytes(pid, "VmRSS:");
  std::printf("server %s, pid %d; frame %zu MiB\n", absl::GetFlag(FLAGS_server).c_str(), pid, mib);
  std::printf("%-52s %13s  %6s\n", "case", "RSS", "/frame");
  Row("idle after start", base, 0);

  const std::string frame = SayFrame(1, mib * kMiB);
  {
    bench::ResetPeakRss(pid);
    ScopedFd fd = Connect(address);
    SendAll(fd.get(), frame);
    ReadReply(fd.get());
    Row("one request: peak RSS above idle", bench::ProcStatusBytes(pid, "VmHWM:") - base,
        frame.size());
  }
  {
    bench::ResetPeakRss(pid);
    const size_t before = bench::ProcStatusBytes(pid, "VmRSS:");
    std::vector<std::thread> clients;
    for (int i = 0; i < 4; ++i) {
      clients.emplace_back([&] {
        ScopedFd fd = Connect(address);
        SendAll(fd.get(), frame);
        ReadReply(fd.get());
      });
    }
    for (std::thread& t : clients) t.join();
    Row("four at once: peak RSS above the start of the case",
        bench::ProcStatusBytes(pid, "VmHWM:") -
            std::min(before, bench::ProcStatusBytes(pid, "VmHWM:")),
        4 * frame.size());
  }
  {
    const std::string big = SayFrame(1, 64 * kMiB - 4096);
    const size_t before = bench::ProcStatusBytes(pid, "VmRSS:");
    std::vector<ScopedFd> stalled;
    for (int i = 0; i < 20; ++i) {
      stalled.push_back(Connect(address));
      SendAll(stalled.back().get(), absl::string_view(big).substr(0, 8 * kMiB));
    }
    absl::SleepFor(absl::Milliseconds(500));
    Row("20 peers, 8 MiB of a 64 MiB frame each: RSS held",
        bench::ProcStatusBytes(pid, "VmRSS:") -
            std::min(before, bench::ProcStatusBytes(pid, "VmRSS:")),
        20 * 8 * kMiB);
  }
  {
    // Many medium frames at once: below glibc's mmap threshold, they come from its heap.
    const std::string medium = SayFrame(1, kMiB);
    const size_t before = bench::ProcStatusBytes(pid, "VmRSS:");
    bench::ResetPeakRss(pid);
    std::vector<std::thread> clients;
    for (int i = 0; i < 64; ++i) {
      clients.emplace_back([&] {
        ScopedFd fd = Connect(address);
        for (int j = 0; j < 4; ++j) {
          SendAll(fd.get(), medium);
          ReadReply(fd.get());
        }
      });
    }
    for (std::thread& t : clients) t.join();
    Row("64 clients x 4 calls of 1 MiB: peak RSS above the case's start",
        bench::ProcStatusBytes(pid, "VmHWM:") -
            std::min(before, bench::ProcStatusBytes(pid, "VmHWM:")),
        64 * medium.size());
  }
  absl::SleepFor(absl::Milliseconds(500));
  for (int seconds : {1, 2, 5}) {
    static int slept = 0;
    absl::SleepFor(absl::Seconds(seconds - slept));
    slept = seconds;
    Row(absl::StrCat("idle, ", seconds, " s after the bursts: RSS").c_str(),
        bench::ProcStatusBytes(pid, "VmRSS:"), base);
  }
  server->Stop();
  return 0;
}

}  // namespace
}  // namespace framerpc

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return framerpc::Main();
}

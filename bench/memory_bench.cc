// memory_bench: what large frames cost a real framerpc_server in resident memory, and whether it
// gives memory back. The server runs as its own process (so the client's buffers do not count),
// started from --server; its RSS and peak RSS (VmHWM, reset between cases through clear_refs)
// are read from /proc. The floor is the frame itself: a 60 MiB request costs at least 60 MiB.
//
//   bazel build -c opt //server:framerpc_server //bench:memory_bench
//   bazel-bin/bench/memory_bench --server=bazel-bin/server/framerpc_server
//
// Cases: one 60 MiB Say (request and reply 60 MiB each), four at once, twenty peers that send
// 8 MiB of a 64 MiB frame and stall, and the RSS after the bursts while the server is idle.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "proto/echo.pb.h"
#include "transport/frame_codec.h"
#include "transport/socket_address.h"
#include "transport/socket_ops.h"

ABSL_FLAG(std::string, server, "bazel-bin/server/framerpc_server", "framerpc_server to measure.");
ABSL_FLAG(std::vector<std::string>, server_args, {}, "Extra flags for the server.");
ABSL_FLAG(int, mib, 60, "Size of the large request, MiB.");

extern char** environ;

namespace framerpc {
namespace {

constexpr size_t kMiB = size_t{1} << 20;

// Reads "VmRSS:" or "VmHWM:" of `pid`, in bytes.
size_t StatusKb(pid_t pid, const std::string& field) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field, 0) == 0) {
      std::istringstream in(line.substr(field.size()));
      size_t kb = 0;
      in >> kb;
      return kb * 1024;
    }
  }
  return 0;
}

void ResetPeak(pid_t pid) { std::ofstream(absl::StrCat("/proc/", pid, "/clear_refs")) << "5"; }

struct ServerProcess {
  pid_t pid = -1;
  std::string address;
};

ServerProcess StartServer() {
  char dir[] = "/tmp/frpc-membench-XXXXXX";
  ::mkdtemp(dir);
  const std::string ready = absl::StrCat(dir, "/ready");
  std::vector<std::string> args = {absl::GetFlag(FLAGS_server), "--listen=127.0.0.1:0",
                                   "--io_threads=2", "--max_frame_bytes=134217728",
                                   "--ready_file=" + ready};
  for (const std::string& a : absl::GetFlag(FLAGS_server_args)) args.push_back(a);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  ServerProcess server;
  if (posix_spawn(&server.pid, argv[0], &actions, nullptr, argv.data(), environ) != 0) {
    std::fprintf(stderr, "cannot start %s\n", argv[0]);
    std::exit(1);
  }
  for (int i = 0; i < 3000 && server.address.empty(); ++i) {
    std::ifstream in(ready);
    std::getline(in, server.address);
    if (server.address.empty()) absl::SleepFor(absl::Milliseconds(10));  // a bench, not a test
  }
  return server;
}

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
  ServerProcess server = StartServer();
  absl::SleepFor(absl::Milliseconds(200));
  const size_t base = StatusKb(server.pid, "VmRSS:");
  std::printf("server %s, pid %d; frame %zu MiB\n", absl::GetFlag(FLAGS_server).c_str(),
              server.pid, mib);
  std::printf("%-52s %13s  %6s\n", "case", "RSS", "/frame");
  Row("idle after start", base, 0);

  const std::string frame = SayFrame(1, mib * kMiB);
  {
    ResetPeak(server.pid);
    ScopedFd fd = Connect(server.address);
    SendAll(fd.get(), frame);
    ReadReply(fd.get());
    Row("one request: peak RSS above idle", StatusKb(server.pid, "VmHWM:") - base, frame.size());
  }
  {
    ResetPeak(server.pid);
    const size_t before = StatusKb(server.pid, "VmRSS:");
    std::vector<std::thread> clients;
    for (int i = 0; i < 4; ++i) {
      clients.emplace_back([&] {
        ScopedFd fd = Connect(server.address);
        SendAll(fd.get(), frame);
        ReadReply(fd.get());
      });
    }
    for (std::thread& t : clients) t.join();
    Row("four at once: peak RSS above the start of the case",
        StatusKb(server.pid, "VmHWM:") - std::min(before, StatusKb(server.pid, "VmHWM:")),
        4 * frame.size());
  }
  {
    const std::string big = SayFrame(1, 64 * kMiB - 4096);
    const size_t before = StatusKb(server.pid, "VmRSS:");
    std::vector<ScopedFd> stalled;
    for (int i = 0; i < 20; ++i) {
      stalled.push_back(Connect(server.address));
      SendAll(stalled.back().get(), absl::string_view(big).substr(0, 8 * kMiB));
    }
    absl::SleepFor(absl::Milliseconds(500));
    Row("20 peers, 8 MiB of a 64 MiB frame each: RSS held",
        StatusKb(server.pid, "VmRSS:") - std::min(before, StatusKb(server.pid, "VmRSS:")),
        20 * 8 * kMiB);
  }
  {
    // Many medium frames at once: below glibc's mmap threshold, they come from its heap.
    const std::string medium = SayFrame(1, kMiB);
    const size_t before = StatusKb(server.pid, "VmRSS:");
    ResetPeak(server.pid);
    std::vector<std::thread> clients;
    for (int i = 0; i < 64; ++i) {
      clients.emplace_back([&] {
        ScopedFd fd = Connect(server.address);
        for (int j = 0; j < 4; ++j) {
          SendAll(fd.get(), medium);
          ReadReply(fd.get());
        }
      });
    }
    for (std::thread& t : clients) t.join();
    Row("64 clients x 4 calls of 1 MiB: peak RSS above the case's start",
        StatusKb(server.pid, "VmHWM:") - std::min(before, StatusKb(server.pid, "VmHWM:")),
        64 * medium.size());
  }
  absl::SleepFor(absl::Milliseconds(500));
  for (int seconds : {1, 2, 5}) {
    static int slept = 0;
    absl::SleepFor(absl::Seconds(seconds - slept));
    slept = seconds;
    Row(absl::StrCat("idle, ", seconds, " s after the bursts: RSS").c_str(),
        StatusKb(server.pid, "VmRSS:"), base);
  }
  ::kill(server.pid, SIGTERM);
  ::waitpid(server.pid, nullptr, 0);
  return 0;
}

}  // namespace
}  // namespace framerpc

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return framerpc::Main();
}

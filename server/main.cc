// framerpc_server: hosts the framerpc services.
//
//   framerpc_server --listen=127.0.0.1:7000,unix:/tmp/f.sock --udp=127.0.0.1:7000
//
// With no flags it serves the embedded default configuration (see kDefault* below). SIGINT or
// SIGTERM starts a graceful shutdown: stop accepting, finish calls in flight, close.
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "rpc/server.h"
#include "rpc/udp_server.h"
#include "services/echo/echo_service.h"
#include "transport/event_loop_thread.h"

// The embedded default configuration: loopback only.
constexpr char kDefaultListen[] = "127.0.0.1:7000";

ABSL_FLAG(std::vector<std::string>, listen, {kDefaultListen},
          "Addresses to serve the framed protocol on, comma-separated: host:port, [v6]:port or "
          "unix:/path. Port 0 picks a free port.");
ABSL_FLAG(std::vector<std::string>, udp, {},
          "Addresses to serve unary calls on over UDP, one frame per datagram, comma-separated.");
ABSL_FLAG(int, io_threads, 0, "Event loop threads; 0 = one per core.");
ABSL_FLAG(int, worker_threads, 4, "Threads for handlers that may block.");
ABSL_FLAG(int, listen_backlog, 1024, "listen(2) backlog.");
ABSL_FLAG(uint32_t, max_frame_bytes, 64u << 20, "Largest accepted frame body, in bytes.");
ABSL_FLAG(uint32_t, max_metadata_bytes, 16u << 10, "Largest call metadata, in bytes.");
ABSL_FLAG(uint64_t, output_high_water_bytes, 16u << 20,
          "Queued replies per connection above which the connection stops being read.");
ABSL_FLAG(uint64_t, max_udp_datagram_bytes, 65507, "Largest UDP datagram accepted.");
ABSL_FLAG(std::string, ready_file, "",
          "When set, the bound addresses are written here (one per line, TCP/Unix first, then "
          "udp:...) once the server is ready.");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(10),
          "How long a graceful shutdown waits for calls in flight.");

namespace {

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "framerpc_server: %s\n", status.ToString().c_str());
  return 1;
}

sigset_t ShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("Hosts the framerpc services. See README.md.");
  absl::ParseCommandLine(argc, argv);
  // Block the shutdown signals in every thread; main waits for them with sigwait.
  sigset_t signals = ShutdownSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  framerpc::ServerOptions options;
  options.io_threads = absl::GetFlag(FLAGS_io_threads);
  options.worker_threads = absl::GetFlag(FLAGS_worker_threads);
  options.listen_backlog = absl::GetFlag(FLAGS_listen_backlog);
  options.limits.max_body_bytes = absl::GetFlag(FLAGS_max_frame_bytes);
  options.limits.max_metadata_bytes = absl::GetFlag(FLAGS_max_metadata_bytes);
  options.output_high_water_bytes = absl::GetFlag(FLAGS_output_high_water_bytes);

  framerpc::echo::EchoServiceImpl echo;
  framerpc::Server server(options);
  if (absl::Status s = server.AddService(&echo); !s.ok()) return Fail(s);
  const std::vector<std::string> listens = absl::GetFlag(FLAGS_listen);
  for (const std::string& address : listens) {
    if (absl::Status s = server.AddListener(address); !s.ok()) return Fail(s);
  }
  if (absl::Status s = server.Start(); !s.ok()) return Fail(s);

  std::vector<std::string> ready;
  for (size_t i = 0; i < listens.size(); ++i) ready.push_back(server.listen_address(i));

  framerpc::EventLoopThread udp_loop;
  std::vector<std::unique_ptr<framerpc::UdpServer>> udp_servers;
  framerpc::UdpServerOptions udp_options;
  udp_options.max_datagram_bytes = absl::GetFlag(FLAGS_max_udp_datagram_bytes);
  for (const std::string& address : absl::GetFlag(FLAGS_udp)) {
    auto udp = std::make_unique<framerpc::UdpServer>(udp_loop.loop(), server.dispatcher(),
                                                     udp_options);
    if (absl::Status s = udp->Bind(address); !s.ok()) return Fail(s);
    if (absl::Status s = udp->Start(); !s.ok()) return Fail(s);
    ready.push_back("udp:" + udp->local_address().ToString());
    udp_servers.push_back(std::move(udp));
  }

  std::printf("framerpc_server: serving %s\n", absl::StrJoin(ready, ", ").c_str());
  std::fflush(stdout);
  if (const std::string path = absl::GetFlag(FLAGS_ready_file); !path.empty()) {
    // Written whole to a temporary name, then renamed, so readers never see half a file.
    const std::string tmp = path + ".tmp";
    std::ofstream(tmp) << absl::StrJoin(ready, "\n") << "\n";
    std::rename(tmp.c_str(), path.c_str());
  }

  int received = 0;
  sigwait(&signals, &received);
  std::printf("framerpc_server: signal %d, shutting down gracefully\n", received);
  std::fflush(stdout);
  for (auto& udp : udp_servers) udp->Stop();
  server.Shutdown(absl::GetFlag(FLAGS_shutdown_grace));
  std::printf("framerpc_server: stopped\n");
  return 0;
}

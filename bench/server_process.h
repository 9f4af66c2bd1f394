// ServerProcess: a framerpc_server run as a child process for benchmarks that measure the server
// alone (its memory, its descriptors), apart from the clients driving it.
//
//   absl::StatusOr<ServerProcess> server =
//       ServerProcess::Start("bazel-bin/server/framerpc_server", {"--listen=127.0.0.1:0"});
//   ... server->address() ... server->pid() ...
//
// The server is given --ready_file in a temporary directory of its own and is ready once that
// file appears (polled: a bench, not a test). The destructor stops it (SIGTERM, then waitpid).
// Its stdout goes to /dev/null; its stderr is the bench's.
//
// Not copyable; movable. Not thread-safe: one thread owns it.
#ifndef FRAMERPC_BENCH_SERVER_PROCESS_H_
#define FRAMERPC_BENCH_SERVER_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace framerpc::bench {

class ServerProcess {
 public:
  // Runs `binary` with `args` and --ready_file, and waits up to `ready_within` for it to say
  // where it listens. UNAVAILABLE if it cannot be started, exits or says nothing in time.
  static absl::StatusOr<ServerProcess> Start(const std::string& binary,
                                             std::vector<std::string> args,
                                             absl::Duration ready_within = absl::Seconds(30));
  ServerProcess(ServerProcess&& other) noexcept;
  ServerProcess& operator=(ServerProcess&&) = delete;
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;
  ~ServerProcess();

  // SIGTERM, then waits for the process; returns its wait status. Idempotent (-1 once stopped).
  int Stop();

  pid_t pid() const { return pid_; }
  // The first address in its ready file: its first TCP or Unix listener.
  const std::string& address() const { return address_; }

 private:
  ServerProcess(pid_t pid, std::string address) : pid_(pid), address_(std::move(address)) {}

  pid_t pid_ = -1;
  std::string address_;
};

}  // namespace framerpc::bench

#endif  // FRAMERPC_BENCH_SERVER_PROCESS_H_

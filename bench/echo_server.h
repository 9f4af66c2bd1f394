// An EchoService server of the bench's own process, on 127.0.0.1 and a port the kernel picks,
// for benchmarks that measure framerpc against a floor in the same run.
#ifndef FRAMERPC_BENCH_ECHO_SERVER_H_
#define FRAMERPC_BENCH_ECHO_SERVER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "rpc/server.h"
#include "services/echo/echo_service.h"

namespace framerpc::bench {

// Starts a server with `options` serving `service` (inline on its I/O loops), listening on
// 127.0.0.1:0. `service` must outlive the server.
absl::StatusOr<std::unique_ptr<Server>> StartEchoServer(const ServerOptions& options,
                                                        echo::EchoServiceImpl* service);

}  // namespace framerpc::bench

#endif  // FRAMERPC_BENCH_ECHO_SERVER_H_

#include "bench/echo_server.h"

#include "base/status_macros.h"

namespace framerpc::bench {

absl::StatusOr<std::unique_ptr<Server>> StartEchoServer(const ServerOptions& options,
                                                        echo::EchoServiceImpl* service) {
  auto server = std::make_unique<Server>(options);
  FRPC_RETURN_IF_ERROR(server->AddService(service));
  FRPC_RETURN_IF_ERROR(server->AddListener("127.0.0.1:0"));
  FRPC_RETURN_IF_ERROR(server->Start());
  return server;
}

}  // namespace framerpc::bench

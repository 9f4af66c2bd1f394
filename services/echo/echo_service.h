// The echo service: the classic echo-server lesson as an RPC service. Stateless; thread-safe.
#ifndef FRAMERPC_SERVICES_ECHO_ECHO_SERVICE_H_
#define FRAMERPC_SERVICES_ECHO_ECHO_SERVICE_H_

#include "proto/echo.frpc.h"

namespace framerpc::echo {

class EchoServiceImpl final : public EchoService::Service {
 public:
  // Returns the text, upper-cased (ASCII) when asked.
  absl::Status Say(ServerContext* context, const SayRequest& request, SayReply* reply) override;
  // Returns the request's attachment as the reply's attachment, and its size in the message.
  absl::Status Bytes(ServerContext* context, const BytesRequest& request,
                     BytesReply* reply) override;
};

}  // namespace framerpc::echo

#endif  // FRAMERPC_SERVICES_ECHO_ECHO_SERVICE_H_

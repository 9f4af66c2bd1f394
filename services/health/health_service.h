// HealthService: the standard grpc.health.v1.Health service (Check and Watch) as a framerpc
// service, so that it is registered like any other and answers on the framed transport and,
// through GrpcAdapter, over gRPC.
//
//   HealthService health;
//   server.AddService(&echo);
//   server.AddService(&health, ServiceOptions{.run_inline = false});
//   health.SetServingForAll(*server.dispatcher());   // "" and every hosted service: SERVING
//   ...
//   health.SetServingStatus("framerpc.echo.EchoService", HealthService::kNotServing);
//   health.Shutdown();                                // before the server stops: NOT_SERVING
//
// Status is per service name ("package.Service"); "" stands for the whole server. A name never
// set is unknown: Check answers NOT_FOUND and Watch reports SERVICE_UNKNOWN (then any later
// change), as the protocol specifies.
//
// Watch blocks its handler thread for as long as the caller watches. It sends the current status,
// then each change. It notices a cancelled call (client gone, deadline) within
// kCancellationCheckInterval, because ServerContext offers no wake-up on cancellation; a change
// wakes it at once.
//
// Thread safety: every method is thread-safe. Lifetime: must outlive the servers it is added to.
#ifndef FRAMERPC_SERVICES_HEALTH_HEALTH_SERVICE_H_
#define FRAMERPC_SERVICES_HEALTH_HEALTH_SERVICE_H_

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "absl/time/time.h"
#include "services/health/health.frpc.h"
#include "rpc/dispatcher.h"

namespace framerpc {

class HealthService final : public grpc::health::v1::Health::Service {
 public:
  using ServingStatus = grpc::health::v1::HealthCheckResponse::ServingStatus;
  static constexpr ServingStatus kServing = grpc::health::v1::HealthCheckResponse::SERVING;
  static constexpr ServingStatus kNotServing = grpc::health::v1::HealthCheckResponse::NOT_SERVING;
  static constexpr absl::Duration kCancellationCheckInterval = absl::Milliseconds(100);

  HealthService() = default;

  // Sets the status of `service` ("" for the server) and tells its watchers. Ignored after
  // Shutdown().
  void SetServingStatus(const std::string& service, ServingStatus status);
  // "" and every service of `dispatcher` (by the names its methods are routed under): SERVING.
  void SetServingForAll(const Dispatcher& dispatcher);
  // Every known name becomes NOT_SERVING, and later SetServingStatus calls are ignored, so that
  // load balancers drain the server before it stops. Idempotent.
  void Shutdown();
  // The status of `service` ("" for the server); SERVICE_UNKNOWN for a name never set.
  ServingStatus GetStatus(const std::string& service);

  absl::Status Check(ServerContext* context, const grpc::health::v1::HealthCheckRequest& request,
                     grpc::health::v1::HealthCheckResponse* response) override;
  absl::Status Watch(
      ServerContext* context, const grpc::health::v1::HealthCheckRequest& request,
      ServerWriter<grpc::health::v1::HealthCheckResponse>* writer) override;

 private:
  // SERVICE_UNKNOWN for a name never set. Requires mu_.
  ServingStatus StatusLocked(const std::string& service) const;

  std::mutex mu_;
  std::condition_variable changed_;
  std::map<std::string, ServingStatus> statuses_;  // guarded by mu_
  uint64_t version_ = 0;                           // guarded by mu_: bumped on every change
  bool shut_down_ = false;                         // guarded by mu_
};

}  // namespace framerpc

#endif  // FRAMERPC_SERVICES_HEALTH_HEALTH_SERVICE_H_

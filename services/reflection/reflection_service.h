// ReflectionService: gRPC server reflection (grpc.reflection.v1alpha.ServerReflection) as a
// framerpc service, so that generic clients (grpcurl, Postman, a script with a dynamic
// descriptor pool) can discover the hosted services and call them. It answers from the
// descriptors compiled into the binary (protobuf's generated pool) and lists the services of one
// Dispatcher, by the names their methods are routed under, so whatever is hosted is listed,
// including the reflection and health services themselves when they are added.
//
//   ReflectionService reflection(server.dispatcher());
//   server.AddService(&reflection, ServiceOptions{.run_inline = false});
//
// Requests are answered in order on one stream. A file answer carries the file and every file it
// depends on, transitively (clients may ask for a dependency by name too). Unknown names get an
// ErrorResponse with NOT_FOUND on the stream, which stays open.
//
// Thread safety: thread-safe. Lifetime: `dispatcher` must outlive this service, and must not get
// new services while a call runs.
#ifndef FRAMERPC_SERVICES_REFLECTION_REFLECTION_SERVICE_H_
#define FRAMERPC_SERVICES_REFLECTION_REFLECTION_SERVICE_H_

#include <string>
#include <vector>

#include "services/reflection/reflection.frpc.h"
#include "rpc/dispatcher.h"

namespace framerpc {

class ReflectionService final : public grpc::reflection::v1alpha::ServerReflection::Service {
 public:
  explicit ReflectionService(const Dispatcher* dispatcher) : dispatcher_(dispatcher) {}

  absl::Status ServerReflectionInfo(
      ServerContext* context,
      ServerReaderWriter<grpc::reflection::v1alpha::ServerReflectionResponse,
                         grpc::reflection::v1alpha::ServerReflectionRequest>* stream) override;

  // The answer to one request (exposed for tests).
  grpc::reflection::v1alpha::ServerReflectionResponse Answer(
      const grpc::reflection::v1alpha::ServerReflectionRequest& request) const;

  // "package.Service" for every service of the dispatcher, in registration order, no repeats.
  std::vector<std::string> ServiceNames() const;

 private:
  const Dispatcher* const dispatcher_;
};

}  // namespace framerpc

#endif  // FRAMERPC_SERVICES_REFLECTION_REFLECTION_SERVICE_H_

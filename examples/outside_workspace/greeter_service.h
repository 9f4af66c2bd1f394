// The user's service, and code of theirs that calls it through the generated interface.
#ifndef GREETER_SERVICE_H_
#define GREETER_SERVICE_H_

#include <string>

#include "absl/status/statusor.h"
#include "greeter.frpc.h"

namespace greeter {

class GreeterImpl final : public Greeter::Service {
 public:
  absl::Status Hello(framerpc::ServerContext* context, const HelloRequest& request,
                     HelloReply* reply) override;
  absl::Status HelloEach(framerpc::ServerContext* context,
                         framerpc::ServerReaderWriter<HelloReply, HelloRequest>* stream) override;
};

// "<message>!" from the Greeter behind `greeter`.
absl::StatusOr<std::string> Shout(Greeter::StubInterface* greeter, const std::string& name);

}  // namespace greeter

#endif  // GREETER_SERVICE_H_

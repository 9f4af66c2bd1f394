#include "cli/known_services.h"

#include "proto/echo.pb.h"
#include "services/command/command.pb.h"

namespace framerpc::cli {

std::vector<const google::protobuf::FileDescriptor*> KnownServiceFiles() {
  return {
      framerpc::echo::SayRequest::descriptor()->file(),
      framerpc::command::RunRequest::descriptor()->file(),
  };
}

}  // namespace framerpc::cli

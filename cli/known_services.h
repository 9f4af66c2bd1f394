// The .proto files whose services framerpc_cli knows how to call.
#ifndef FRAMERPC_CLI_KNOWN_SERVICES_H_
#define FRAMERPC_CLI_KNOWN_SERVICES_H_

#include <vector>

#include "google/protobuf/descriptor.h"

namespace framerpc::cli {

// Files of the generated pool, one per linked service proto. Listed explicitly rather than
// registered at static-initialisation time; naming a generated message of each file is also what
// keeps its descriptor linked into the binary.
//
// To add a service: add its cc_proto_library to //cli:known_services and one line here.
std::vector<const google::protobuf::FileDescriptor*> KnownServiceFiles();

}  // namespace framerpc::cli

#endif  // FRAMERPC_CLI_KNOWN_SERVICES_H_

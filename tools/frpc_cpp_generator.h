// The protoc code generator behind protoc-gen-frpc: for foo/bar.proto it writes foo/bar.frpc.h
// and foo/bar.frpc.cc, which hold a typed server base class and a client stub for each service
// (see frpc_cpp_generator.cc for the exact shape), for unary, server-streaming, client-streaming
// and bidirectional methods alike.
//
// Stateless: one generator may serve any number of files, from any thread.
#ifndef FRAMERPC_TOOLS_FRPC_CPP_GENERATOR_H_
#define FRAMERPC_TOOLS_FRPC_CPP_GENERATOR_H_

#include <cstdint>
#include <string>

#include "google/protobuf/compiler/code_generator.h"
#include "google/protobuf/descriptor.h"

namespace framerpc {
namespace tools {

class FrpcCppGenerator final : public google::protobuf::compiler::CodeGenerator {
 public:
  // Writes both files through `context`. Returns false with a message in `error` when the file
  // cannot be served (lite runtime, names that clash with the generated code) or `parameter` is
  // not empty.
  bool Generate(const google::protobuf::FileDescriptor* file, const std::string& parameter,
                google::protobuf::compiler::GeneratorContext* context,
                std::string* error) const override;

  // Proto3 `optional` fields are the message generator's business, not ours.
  uint64_t GetSupportedFeatures() const override { return FEATURE_PROTO3_OPTIONAL; }
};

}  // namespace tools
}  // namespace framerpc

#endif  // FRAMERPC_TOOLS_FRPC_CPP_GENERATOR_H_

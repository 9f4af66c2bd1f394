// protoc-gen-frpc: the protoc plugin that writes framerpc's C++ service stubs.
//   protoc --plugin=protoc-gen-frpc=<this binary> --frpc_out=<dir> foo/bar.proto
// writes <dir>/foo/bar.frpc.h and <dir>/foo/bar.frpc.cc. Bazel users call frpc_cc_library
// (tools/frpc_proto.bzl) instead.
#include "google/protobuf/compiler/plugin.h"
#include "tools/frpc_cpp_generator.h"

int main(int argc, char* argv[]) {
  framerpc::tools::FrpcCppGenerator generator;
  return google::protobuf::compiler::PluginMain(argc, argv, &generator);
}

// Where framerpc_cli finds the services it lists, describes and calls, and the messages it turns
// into and out of JSON, as grpcurl does:
//   - a server's reflection service (grpc.reflection.v1alpha, over the framed protocol or over
//     gRPC with --grpc): the default when the command has an address;
//   - .proto files (--proto, with --import_path; protobuf's own well-known types are found in
//     /usr/include);
//   - a FileDescriptorSet (--protoset, as `protoc --include_imports --descriptor_set_out` writes).
// The services linked into framerpc_cli (cli/known_services.h) serve when none of them applies.
//
// A DescriptorSource owns its descriptor pool; the MethodRegistry it gives, and every descriptor
// and message from it, must not outlive it. Immutable once made; thread-safe to read.
#ifndef FRAMERPC_CLI_DESCRIPTOR_SOURCE_H_
#define FRAMERPC_CLI_DESCRIPTOR_SOURCE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/cli_call.h"
#include "cli/method_registry.h"
#include "google/protobuf/compiler/importer.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/descriptor_database.h"

namespace framerpc::cli {

class DescriptorSource {
 public:
  DescriptorSource(const DescriptorSource&) = delete;
  DescriptorSource& operator=(const DescriptorSource&) = delete;
  ~DescriptorSource();

  // The reflection call to start (cli/start_call.h) for FromReflection, and its reply type.
  static const google::protobuf::MethodDescriptor& ReflectionMethod();
  static const google::protobuf::Message& ReflectionReply();

  // Asks the reflection service at `target` over `stream`, a started ReflectionMethod() call,
  // for its services and the files that define them (with their dependencies); ends the call.
  // UNIMPLEMENTED "the server at <target> has no reflection
  // service" when it has none; the call's error otherwise; INVALID_ARGUMENT naming the file when
  // the server sends a descriptor that does not parse or build.
  static absl::StatusOr<std::unique_ptr<DescriptorSource>> FromReflection(
      CliCall* stream, const std::string& target);

  // `files` and what they import, found under `import_paths` (the current directory when empty).
  // INVALID_ARGUMENT with the parser's messages (file:line:column: what).
  static absl::StatusOr<std::unique_ptr<DescriptorSource>> FromProtoFiles(
      const std::vector<std::string>& files, const std::vector<std::string>& import_paths);

  // The files of a serialized FileDescriptorSet at `path`, which must hold every import.
  static absl::StatusOr<std::unique_ptr<DescriptorSource>> FromProtoset(const std::string& path);

  // Already parsed files, any order; the services of all of them.
  static absl::StatusOr<std::unique_ptr<DescriptorSource>> FromFiles(
      std::vector<google::protobuf::FileDescriptorProto> files, const std::string& origin);

  const MethodRegistry& registry() const { return *registry_; }

 private:
  DescriptorSource() = default;

  // Builds every file of `database_` (so that errors show now, with `origin` in them), then the
  // registry over those with services.
  absl::Status BuildAll(const std::vector<std::string>& file_names, const std::string& origin);

  google::protobuf::SimpleDescriptorDatabase database_;
  // Declared before the pool that reports to it.
  std::unique_ptr<google::protobuf::DescriptorPool::ErrorCollector> build_errors_;
  std::unique_ptr<google::protobuf::DescriptorPool> pool_;
  // For FromProtoFiles: the importer owns its pool.
  std::unique_ptr<google::protobuf::compiler::DiskSourceTree> source_tree_;
  std::unique_ptr<google::protobuf::compiler::MultiFileErrorCollector> errors_;
  std::unique_ptr<google::protobuf::compiler::Importer> importer_;
  std::unique_ptr<MethodRegistry> registry_;
};

}  // namespace framerpc::cli

#endif  // FRAMERPC_CLI_DESCRIPTOR_SOURCE_H_

// Descriptor lookup for framerpc_cli: which services and methods exist, what their request and
// response types are, and empty messages of those types.
#ifndef FRAMERPC_CLI_METHOD_REGISTRY_H_
#define FRAMERPC_CLI_METHOD_REGISTRY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/message.h"

namespace framerpc::cli {

// "/package.Service/Method": the method name a framerpc call carries on the wire.
std::string MethodPath(const google::protobuf::MethodDescriptor& method);

// The services of a fixed set of .proto files. Does not own the FileDescriptors: they and their
// pools must outlive the registry (the generated pool lives for the whole process). Immutable
// after construction; every method is thread-safe.
class MethodRegistry {
 public:
  explicit MethodRegistry(std::vector<const google::protobuf::FileDescriptor*> files);
  MethodRegistry(const MethodRegistry&) = delete;
  MethodRegistry& operator=(const MethodRegistry&) = delete;

  // Accepts "/package.Service/Method", "package.Service/Method" or "package.Service.Method".
  // NOT_FOUND, listing the known methods, for anything else.
  absl::StatusOr<const google::protobuf::MethodDescriptor*> FindMethod(
      absl::string_view name) const;

  // Every service of the registered files, in file order.
  const std::vector<const google::protobuf::ServiceDescriptor*>& services() const {
    return services_;
  }

  // The DebugString of a service, method (any FindMethod spelling), message or enum, looked up by
  // full name in the pools of the registered files. NOT_FOUND otherwise.
  absl::StatusOr<std::string> Describe(absl::string_view symbol) const;

  // A new, empty message of `type`: the generated class when `type` comes from the generated
  // pool, a DynamicMessage otherwise. The result must not outlive the registry.
  std::unique_ptr<google::protobuf::Message> NewMessage(
      const google::protobuf::Descriptor* type) const;

 private:
  std::vector<const google::protobuf::DescriptorPool*> pools_;
  std::vector<const google::protobuf::ServiceDescriptor*> services_;
  // Keyed by MethodPath(); ordered so that error messages list methods predictably.
  absl::btree_map<std::string, const google::protobuf::MethodDescriptor*> methods_;
  // GetPrototype() is thread-safe; `mutable` because prototypes are created lazily.
  mutable google::protobuf::DynamicMessageFactory factory_;
};

}  // namespace framerpc::cli

#endif  // FRAMERPC_CLI_METHOD_REGISTRY_H_

#include "cli/method_registry.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace framerpc::cli {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::DescriptorPool;
using google::protobuf::FileDescriptor;
using google::protobuf::MethodDescriptor;
using google::protobuf::ServiceDescriptor;

// Rewrites "package.Service/Method" and "package.Service.Method" as "/package.Service/Method".
// Anything without a service part is returned unchanged and will not be found.
std::string CanonicalMethodPath(absl::string_view name) {
  if (!name.empty() && name.front() == '/') name.remove_prefix(1);
  size_t split = name.find('/');
  if (split == absl::string_view::npos) split = name.rfind('.');
  if (split == absl::string_view::npos) return std::string(name);
  return absl::StrCat("/", name.substr(0, split), "/", name.substr(split + 1));
}

}  // namespace

std::string MethodPath(const MethodDescriptor& method) {
  return absl::StrCat("/", method.service()->full_name(), "/", method.name());
}

MethodRegistry::MethodRegistry(std::vector<const FileDescriptor*> files) {
  factory_.SetDelegateToGeneratedFactory(true);
  for (const FileDescriptor* file : files) {
    if (std::find(pools_.begin(), pools_.end(), file->pool()) == pools_.end()) {
      pools_.push_back(file->pool());
    }
    for (int s = 0; s < file->service_count(); ++s) {
      const ServiceDescriptor* service = file->service(s);
      if (std::find(services_.begin(), services_.end(), service) != services_.end()) continue;
      services_.push_back(service);
      for (int m = 0; m < service->method_count(); ++m) {
        methods_.emplace(MethodPath(*service->method(m)), service->method(m));
      }
    }
  }
}

absl::StatusOr<const MethodDescriptor*> MethodRegistry::FindMethod(absl::string_view name) const {
  auto it = methods_.find(CanonicalMethodPath(name));
  if (it != methods_.end()) return it->second;
  std::vector<absl::string_view> known;
  for (const auto& [path, method] : methods_) known.push_back(path);
  return absl::NotFoundError(
      absl::StrCat("unknown method ", name,
                   " (known: ", known.empty() ? "none" : absl::StrJoin(known, ", "), ")"));
}

absl::StatusOr<std::string> MethodRegistry::Describe(absl::string_view symbol) const {
  const std::string name(symbol);
  for (const DescriptorPool* pool : pools_) {
    if (const ServiceDescriptor* d = pool->FindServiceByName(name)) return d->DebugString();
    if (const Descriptor* d = pool->FindMessageTypeByName(name)) return d->DebugString();
    if (const auto* d = pool->FindEnumTypeByName(name)) return d->DebugString();
  }
  absl::StatusOr<const MethodDescriptor*> method = FindMethod(symbol);
  if (method.ok()) return (*method)->DebugString();
  return absl::NotFoundError(
      absl::StrCat("unknown symbol ", symbol,
                   " (expected a service, method, message or enum full name; try `list`)"));
}

std::unique_ptr<google::protobuf::Message> MethodRegistry::NewMessage(
    const Descriptor* type) const {
  return std::unique_ptr<google::protobuf::Message>(factory_.GetPrototype(type)->New());
}

}  // namespace framerpc::cli

#include "services/reflection/reflection_service.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"

namespace framerpc {
namespace {

using google::protobuf::DescriptorPool;
using google::protobuf::FileDescriptor;
using grpc::reflection::v1alpha::ServerReflectionRequest;
using grpc::reflection::v1alpha::ServerReflectionResponse;

constexpr int kNotFound = 5;        // grpc::StatusCode::NOT_FOUND
constexpr int kInvalidArgument = 3;

void SetError(ServerReflectionResponse* response, int code, std::string message) {
  response->mutable_error_response()->set_error_code(code);
  response->mutable_error_response()->set_error_message(std::move(message));
}

// `file` and its transitive dependencies, each once, dependencies after their dependents.
void AddFileWithDependencies(const FileDescriptor* file, std::set<std::string>* sent,
                             ServerReflectionResponse* response) {
  if (!sent->insert(file->name()).second) return;
  google::protobuf::FileDescriptorProto proto;
  file->CopyTo(&proto);
  proto.SerializeToString(
      response->mutable_file_descriptor_response()->add_file_descriptor_proto());
  for (int i = 0; i < file->dependency_count(); ++i) {
    AddFileWithDependencies(file->dependency(i), sent, response);
  }
}

void AnswerWithFile(const FileDescriptor* file, const std::string& what,
                    ServerReflectionResponse* response) {
  if (file == nullptr) return SetError(response, kNotFound, absl::StrCat(what, " not found"));
  std::set<std::string> sent;
  AddFileWithDependencies(file, &sent, response);
}

}  // namespace

std::vector<std::string> ReflectionService::ServiceNames() const {
  std::vector<std::string> names;
  std::set<std::string> seen;
  for (const framerpc::Service* service : dispatcher_->services()) {
    for (const MethodEntry& method : service->methods()) {
      // "/package.Service/Method" -> "package.Service"
      const size_t slash = method.full_name.find('/', 1);
      if (slash == std::string::npos) continue;
      std::string name = method.full_name.substr(1, slash - 1);
      if (seen.insert(name).second) names.push_back(std::move(name));
    }
  }
  return names;
}

ServerReflectionResponse ReflectionService::Answer(const ServerReflectionRequest& request) const {
  const DescriptorPool* pool = DescriptorPool::generated_pool();
  ServerReflectionResponse response;
  response.set_valid_host(request.host());
  *response.mutable_original_request() = request;
  switch (request.message_request_case()) {
    case ServerReflectionRequest::kListServices:
      for (const std::string& name : ServiceNames()) {
        response.mutable_list_services_response()->add_service()->set_name(name);
      }
      break;
    case ServerReflectionRequest::kFileByFilename:
      AnswerWithFile(pool->FindFileByName(request.file_by_filename()),
                     absl::StrCat("file '", request.file_by_filename(), "'"), &response);
      break;
    case ServerReflectionRequest::kFileContainingSymbol:
      AnswerWithFile(pool->FindFileContainingSymbol(request.file_containing_symbol()),
                     absl::StrCat("symbol '", request.file_containing_symbol(), "'"), &response);
      break;
    case ServerReflectionRequest::kFileContainingExtension: {
      const auto& extension = request.file_containing_extension();
      const auto* type = pool->FindMessageTypeByName(extension.containing_type());
      const auto* field = type == nullptr ? nullptr
                                          : pool->FindExtensionByNumber(
                                                type, extension.extension_number());
      AnswerWithFile(field == nullptr ? nullptr : field->file(),
                     absl::StrCat("extension ", extension.extension_number(), " of '",
                                  extension.containing_type(), "'"),
                     &response);
      break;
    }
    case ServerReflectionRequest::kAllExtensionNumbersOfType: {
      const auto* type = pool->FindMessageTypeByName(request.all_extension_numbers_of_type());
      if (type == nullptr) {
        SetError(&response, kNotFound,
                 absl::StrCat("type '", request.all_extension_numbers_of_type(), "' not found"));
        break;
      }
      std::vector<const google::protobuf::FieldDescriptor*> extensions;
      pool->FindAllExtensions(type, &extensions);
      auto* numbers = response.mutable_all_extension_numbers_response();
      numbers->set_base_type_name(type->full_name());
      for (const auto* field : extensions) numbers->add_extension_number(field->number());
      break;
    }
    case ServerReflectionRequest::MESSAGE_REQUEST_NOT_SET:
      SetError(&response, kInvalidArgument, "empty reflection request");
      break;
  }
  return response;
}

absl::Status ReflectionService::ServerReflectionInfo(
    ServerContext* context,
    ServerReaderWriter<ServerReflectionResponse, ServerReflectionRequest>* stream) {
  ServerReflectionRequest request;
  while (stream->Read(&request)) {
    if (!stream->Write(Answer(request))) return absl::CancelledError("the call has ended");
  }
  if (context->IsCancelled()) return absl::CancelledError("the call has ended");
  return absl::OkStatus();
}

}  // namespace framerpc

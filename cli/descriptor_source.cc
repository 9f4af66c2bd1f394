#include "cli/descriptor_source.h"

#include <sys/stat.h>

#include <cerrno>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/reflection/reflection.pb.h"
#include "base/status_macros.h"

namespace framerpc::cli {
namespace {

using google::protobuf::DescriptorPool;
using google::protobuf::FileDescriptor;
using google::protobuf::FileDescriptorProto;
using grpc::reflection::v1alpha::ServerReflectionRequest;
using grpc::reflection::v1alpha::ServerReflectionResponse;

// What a server may make us hold: far above any real service set.
constexpr size_t kMaxServices = 4096;
constexpr size_t kMaxFiles = 16384;
constexpr uint64_t kMaxProtosetBytes = uint64_t{64} << 20;
constexpr char kReflectionService[] = "grpc.reflection.v1alpha.ServerReflection";

// Collects what the pool or the parser reports, one line each.
class BuildErrors final : public DescriptorPool::ErrorCollector {
 public:
  void AddError(const std::string& filename, const std::string& element_name,
                const google::protobuf::Message*, ErrorLocation,
                const std::string& message) override {
    lines_.push_back(absl::StrCat(filename, ": ", element_name, ": ", message));
  }
  std::string Take() {
    std::string text = absl::StrJoin(lines_, "; ");
    lines_.clear();
    return text;
  }

 private:
  std::vector<std::string> lines_;
};

class ParseErrors final : public google::protobuf::compiler::MultiFileErrorCollector {
 public:
  void AddError(const std::string& filename, int line, int column,
                const std::string& message) override {
    lines_.push_back(absl::StrCat(filename, ":", line + 1, ":", column + 1, ": ", message));
  }
  std::string Text() const { return absl::StrJoin(lines_, "; "); }

 private:
  std::vector<std::string> lines_;
};

// One request and its answer on the reflection stream. `what` names the request in errors.
absl::StatusOr<ServerReflectionResponse> Ask(CliCall* stream,
                                              const ServerReflectionRequest& request,
                                              const std::string& target, const std::string& what) {
  ServerReflectionResponse response;
  std::string attachment;
  if (!stream->Write(request, {}) || !stream->Read(&response, &attachment)) {
    absl::Status status = stream->Finish();
    if (absl::IsUnimplemented(status)) {
      return absl::UnimplementedError(absl::StrCat(
          "the server at ", target,
          " has no reflection service; give the services' --proto files or a --protoset"));
    }
    if (status.ok()) {
      return absl::InternalError(
          absl::StrCat("the reflection service at ", target, " ended without answering ", what));
    }
    return status;
  }
  if (response.has_error_response()) {
    return absl::Status(static_cast<absl::StatusCode>(response.error_response().error_code()),
                        absl::StrCat("reflection, ", what, ": ",
                                     response.error_response().error_message()));
  }
  return response;
}

}  // namespace

DescriptorSource::~DescriptorSource() = default;

const google::protobuf::MethodDescriptor& DescriptorSource::ReflectionMethod() {
  return *ServerReflectionRequest::descriptor()
              ->file()
              ->FindServiceByName("ServerReflection")
              ->FindMethodByName("ServerReflectionInfo");
}

const google::protobuf::Message& DescriptorSource::ReflectionReply() {
  return ServerReflectionResponse::default_instance();
}

absl::StatusOr<std::unique_ptr<DescriptorSource>> DescriptorSource::FromReflection(
    CliCall* stream, const std::string& target) {
  ServerReflectionRequest request;
  request.set_list_services("*");
  FRPC_ASSIGN_OR_RETURN(const ServerReflectionResponse listed,
                        Ask(stream, request, target, "the list of services"));
  if (!listed.has_list_services_response()) {
    return absl::InternalError(absl::StrCat("the reflection service at ", target,
                                            " answered the list of services with something else"));
  }
  const auto& services = listed.list_services_response().service();
  if (static_cast<size_t>(services.size()) > kMaxServices) {
    return absl::ResourceExhaustedError(absl::StrCat("the server at ", target, " lists ",
                                                     services.size(), " services; at most ",
                                                     kMaxServices, " are read"));
  }
  std::vector<FileDescriptorProto> files;
  absl::flat_hash_set<std::string> seen;
  for (const auto& service : services) {
    if (service.name() == kReflectionService) continue;  // framerpc_cli's own business
    ServerReflectionRequest ask;
    ask.set_file_containing_symbol(service.name());
    FRPC_ASSIGN_OR_RETURN(
        const ServerReflectionResponse answer,
        Ask(stream, ask, target, absl::StrCat("the file that defines ", service.name())));
    for (const std::string& bytes : answer.file_descriptor_response().file_descriptor_proto()) {
      FileDescriptorProto file;
      if (!file.ParseFromString(bytes)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "the reflection service at ", target, " sent a file descriptor that does not parse, "
            "for ", service.name()));
      }
      if (!seen.insert(file.name()).second) continue;
      if (seen.size() > kMaxFiles) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "the server at ", target, " sends more than ", kMaxFiles, " .proto files"));
      }
      files.push_back(std::move(file));
    }
  }
  stream->WritesDone();
  // The files are all here; how the stream ends does not change them.
  stream->Finish().IgnoreError();
  return FromFiles(std::move(files), absl::StrCat("reflection at ", target));
}

absl::StatusOr<std::unique_ptr<DescriptorSource>> DescriptorSource::FromFiles(
    std::vector<FileDescriptorProto> files, const std::string& origin) {
  std::unique_ptr<DescriptorSource> source(new DescriptorSource());
  std::vector<std::string> names;
  for (FileDescriptorProto& file : files) {
    names.push_back(file.name());
    if (!source->database_.AddAndOwn(new FileDescriptorProto(std::move(file)))) {
      return absl::InvalidArgumentError(
          absl::StrCat(origin, ": file '", names.back(), "' appears twice, differently"));
    }
  }
  FRPC_RETURN_IF_ERROR(source->BuildAll(names, origin));
  return source;
}

absl::Status DescriptorSource::BuildAll(const std::vector<std::string>& file_names,
                                        const std::string& origin) {
  auto errors = std::make_unique<BuildErrors>();
  BuildErrors* collected = errors.get();
  build_errors_ = std::move(errors);
  pool_ = std::make_unique<DescriptorPool>(&database_, build_errors_.get());
  std::vector<const FileDescriptor*> with_services;
  for (const std::string& name : file_names) {
    const FileDescriptor* file = pool_->FindFileByName(name);
    if (file == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(origin, ": cannot build '", name, "': ", collected->Take()));
    }
    if (file->service_count() > 0) with_services.push_back(file);
  }
  registry_ = std::make_unique<MethodRegistry>(std::move(with_services));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<DescriptorSource>> DescriptorSource::FromProtoFiles(
    const std::vector<std::string>& files, const std::vector<std::string>& import_paths) {
  std::unique_ptr<DescriptorSource> source(new DescriptorSource());
  source->source_tree_ = std::make_unique<google::protobuf::compiler::DiskSourceTree>();
  for (const std::string& path : import_paths) source->source_tree_->MapPath("", path);
  if (import_paths.empty()) source->source_tree_->MapPath("", ".");
  // protobuf's well-known types (google/protobuf/*.proto), as protoc finds them.
  struct stat info;
  if (::stat("/usr/include/google/protobuf/descriptor.proto", &info) == 0) {
    source->source_tree_->MapPath("", "/usr/include");
  }
  auto errors = std::make_unique<ParseErrors>();
  ParseErrors* collected = errors.get();
  source->errors_ = std::move(errors);
  source->importer_ = std::make_unique<google::protobuf::compiler::Importer>(
      source->source_tree_.get(), source->errors_.get());
  std::vector<const FileDescriptor*> with_services;
  for (const std::string& file : files) {
    std::string virtual_name = file;
    std::string shadowing;
    if (source->source_tree_->DiskFileToVirtualFile(file, &virtual_name, &shadowing) !=
        google::protobuf::compiler::DiskSourceTree::SUCCESS) {
      virtual_name = file;
    }
    const FileDescriptor* descriptor = source->importer_->Import(virtual_name);
    if (descriptor == nullptr) {
      const std::string text = collected->Text();
      return absl::InvalidArgumentError(absl::StrCat(
          "--proto ", file, ": ",
          text.empty() ? "not found under the import paths (--import_path)" : text));
    }
    if (descriptor->service_count() > 0) with_services.push_back(descriptor);
  }
  source->registry_ = std::make_unique<MethodRegistry>(std::move(with_services));
  return source;
}

absl::StatusOr<std::unique_ptr<DescriptorSource>> DescriptorSource::FromProtoset(
    const std::string& path) {
  struct stat info;
  if (::stat(path.c_str(), &info) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("--protoset ", path));
  }
  if (static_cast<uint64_t>(info.st_size) > kMaxProtosetBytes) {
    return absl::ResourceExhaustedError(absl::StrCat("--protoset ", path, " is ", info.st_size,
                                                     " bytes; at most ", kMaxProtosetBytes));
  }
  std::ifstream in(path, std::ios::binary);
  google::protobuf::FileDescriptorSet set;
  if (!in || !set.ParseFromIstream(&in)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--protoset ", path, " is not a serialized FileDescriptorSet"));
  }
  std::vector<FileDescriptorProto> files(set.file().begin(), set.file().end());
  return FromFiles(std::move(files), absl::StrCat("--protoset ", path));
}

}  // namespace framerpc::cli

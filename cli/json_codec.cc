#include "cli/json_codec.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"

namespace framerpc::cli {
namespace {

// protobuf 3.21 has its own status type, with the same codes as absl's.
absl::Status FromProtobuf(const google::protobuf::util::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.code()),
                      absl::string_view(status.message().data(), status.message().size()));
}

}  // namespace

absl::Status JsonToMessage(absl::string_view json, google::protobuf::Message* message) {
  message->Clear();
  json = absl::StripAsciiWhitespace(json);
  if (json.empty()) return absl::OkStatus();
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const google::protobuf::util::Status status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), message, options);
  if (status.ok()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("invalid JSON for ", message->GetTypeName(), ": ",
                                                 FromProtobuf(status).message()));
}

absl::StatusOr<std::string> MessageToJson(const google::protobuf::Message& message,
                                          const JsonOutputOptions& options) {
  google::protobuf::util::JsonPrintOptions print;
  print.add_whitespace = options.pretty;
  print.always_print_primitive_fields = options.emit_defaults;
  print.preserve_proto_field_names = options.preserve_proto_field_names;
  std::string json;
  const google::protobuf::util::Status status =
      google::protobuf::util::MessageToJsonString(message, &json, print);
  if (!status.ok()) return FromProtobuf(status);
  // With add_whitespace, protobuf ends the text with a newline; callers add their own.
  while (!json.empty() && json.back() == '\n') json.pop_back();
  return json;
}

}  // namespace framerpc::cli

// Protobuf's canonical JSON mapping, with errors as absl::Status.
#ifndef FRAMERPC_CLI_JSON_CODEC_H_
#define FRAMERPC_CLI_JSON_CODEC_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace framerpc::cli {

struct JsonOutputOptions {
  bool pretty = true;
  // Print fields that hold their default value (proto3 scalars, empty repeated fields).
  bool emit_defaults = false;
  // "field_name" instead of the JSON mapping's "fieldName".
  bool preserve_proto_field_names = false;
};

// Replaces `message` with the one `json` describes. Blank input means the empty message. Unknown
// fields are rejected. Bad JSON is INVALID_ARGUMENT carrying protobuf's parser message.
absl::Status JsonToMessage(absl::string_view json, google::protobuf::Message* message);

// `message` as JSON, without a trailing newline.
absl::StatusOr<std::string> MessageToJson(const google::protobuf::Message& message,
                                          const JsonOutputOptions& options);

}  // namespace framerpc::cli

#endif  // FRAMERPC_CLI_JSON_CODEC_H_

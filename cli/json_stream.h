// Splits a stream of JSON texts into one text per message, as grpcurl reads a streaming call's
// requests: objects one per line, or concatenated with or without white space between them
// ({"a":1}{"a":2}). Only the outer structure is looked at (braces and brackets outside strings,
// string escapes); each text is then parsed by the JSON codec, which reports its errors.
//
// Not thread-safe; reads `in` only from Next().
#ifndef FRAMERPC_CLI_JSON_STREAM_H_
#define FRAMERPC_CLI_JSON_STREAM_H_

#include <cstddef>
#include <istream>
#include <optional>
#include <string>

#include "absl/status/statusor.h"

namespace framerpc::cli {

class JsonStreamReader {
 public:
  // `max_text_bytes` bounds one text, checked as it is read (before it grows past the bound).
  explicit JsonStreamReader(std::istream* in, size_t max_text_bytes = size_t{64} << 20)
      : in_(in), max_text_bytes_(max_text_bytes) {}

  // The next text (an object or array, with its nesting), or nullopt at the end of the input.
  // INVALID_ARGUMENT for input that is not a sequence of objects or arrays (a bare value, an
  // unbalanced bracket, input that ends inside a text), naming the byte offset; RESOURCE_EXHAUSTED
  // for a text over the bound; DATA_LOSS when reading fails. After an error, Next() repeats it.
  absl::StatusOr<std::optional<std::string>> Next();

 private:
  absl::StatusOr<std::optional<std::string>> Fail(absl::Status status);

  std::istream* in_;
  const size_t max_text_bytes_;
  size_t offset_ = 0;  // bytes consumed from `in_`
  absl::Status error_;
};

}  // namespace framerpc::cli

#endif  // FRAMERPC_CLI_JSON_STREAM_H_

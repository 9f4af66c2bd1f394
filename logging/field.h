// Field: one key and value of a structured log record. Strings are written as JSON strings
// (quoted, escaped); integers and booleans as bare JSON values.
//
//   logging::Log(Level::kInfo, "rpc", "call", {{"method", method}, {"bytes", size}});
//
// A Field owns a copy of its value; its key must outlive it (normally a string literal).
#ifndef FRAMERPC_LOGGING_FIELD_H_
#define FRAMERPC_LOGGING_FIELD_H_

#include <string>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace framerpc::logging {

struct Field {
  Field(absl::string_view k, absl::string_view v) : key(k), value(v), quoted(true) {}
  Field(absl::string_view k, const char* v) : Field(k, absl::string_view(v)) {}
  Field(absl::string_view k, const std::string& v) : Field(k, absl::string_view(v)) {}
  Field(absl::string_view k, bool v) : key(k), value(v ? "true" : "false"), quoted(false) {}
  template <typename T,
            std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
  Field(absl::string_view k, T v) : key(k), value(absl::StrCat(v)), quoted(false) {}

  absl::string_view key;
  std::string value;
  bool quoted;  // a string: written quoted and escaped; otherwise a number or boolean, bare
};

}  // namespace framerpc::logging

#endif  // FRAMERPC_LOGGING_FIELD_H_

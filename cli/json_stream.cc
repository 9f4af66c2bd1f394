#include "cli/json_stream.h"

#include <vector>

#include "absl/strings/str_cat.h"

namespace framerpc::cli {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

}  // namespace

absl::StatusOr<std::optional<std::string>> JsonStreamReader::Fail(absl::Status status) {
  error_ = status;
  return status;
}

absl::StatusOr<std::optional<std::string>> JsonStreamReader::Next() {
  if (!error_.ok()) return error_;
  std::string text;
  std::vector<char> open;  // the closing brackets expected, innermost last
  bool in_string = false;
  bool escaped = false;
  const size_t start = offset_;
  for (int next = in_->get(); next != std::char_traits<char>::eof(); next = in_->get()) {
    const char c = static_cast<char>(next);
    ++offset_;
    if (open.empty()) {
      if (IsSpace(c)) continue;
      if (c != '{' && c != '[') {
        return Fail(absl::InvalidArgumentError(absl::StrCat(
            "the requests must be JSON objects, one after another; byte ", offset_ - 1,
            " starts something else ('", std::string(1, c), "')")));
      }
    }
    if (text.size() == max_text_bytes_) {
      return Fail(absl::ResourceExhaustedError(absl::StrCat(
          "a request's JSON starting at byte ", start, " is longer than ", max_text_bytes_,
          " bytes")));
    }
    text.push_back(c);
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '{':
        open.push_back('}');
        break;
      case '[':
        open.push_back(']');
        break;
      case '}':
      case ']':
        if (open.empty() || open.back() != c) {
          return Fail(absl::InvalidArgumentError(absl::StrCat(
              "unbalanced '", std::string(1, c), "' at byte ", offset_ - 1, " of the requests")));
        }
        open.pop_back();
        if (open.empty()) return std::optional<std::string>(std::move(text));
        break;
      default:
        break;
    }
  }
  if (in_->bad()) return Fail(absl::DataLossError("cannot read the requests from stdin"));
  if (!open.empty()) {
    return Fail(absl::InvalidArgumentError(absl::StrCat(
        "the requests end inside the JSON text that starts at byte ", start)));
  }
  return std::optional<std::string>();
}

}  // namespace framerpc::cli

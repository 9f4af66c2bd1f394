#include "admin/http_request.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace framerpc::admin {
namespace {

ParseResult Error(int status, std::string why) {
  ParseResult result;
  result.outcome = ParseOutcome::kError;
  result.http_status = status;
  result.error = std::move(why);
  return result;
}

bool IsToken(absl::string_view s) {
  if (s.empty()) return false;
  for (const char c : s) {
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) || absl::StrContains("!#$%&'*+-.^_`|~", c))) {
      return false;
    }
  }
  return true;
}

}  // namespace

absl::string_view HttpRequest::Header(absl::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return "";
}

ParseResult ParseHttpRequest(absl::string_view input, HttpRequest* request) {
  const size_t end = input.find("\r\n\r\n");
  if (end == absl::string_view::npos) {
    if (input.size() >= kMaxHeadBytes) return Error(431, "request head too large");
    return ParseResult{};  // kNeedMore
  }
  if (end + 4 > kMaxHeadBytes) return Error(431, "request head too large");
  const absl::string_view head = input.substr(0, end);
  std::vector<absl::string_view> lines = absl::StrSplit(head, "\r\n");
  // The request line: METHOD SP target SP version.
  std::vector<absl::string_view> parts = absl::StrSplit(lines[0], ' ');
  if (parts.size() != 3 || !IsToken(parts[0]) || parts[1].empty()) {
    return Error(400, "malformed request line");
  }
  if (parts[2] != "HTTP/1.1" && parts[2] != "HTTP/1.0") {
    return Error(505, "only HTTP/1.0 and HTTP/1.1 are spoken here");
  }
  if (parts[1].front() != '/') return Error(400, "the target must be a path");
  *request = HttpRequest();
  request->method = std::string(parts[0]);
  request->version = std::string(parts[2]);
  const size_t question = parts[1].find('?');
  request->path = std::string(parts[1].substr(0, question));
  if (question != absl::string_view::npos) request->query = std::string(parts[1].substr(question + 1));
  for (size_t i = 1; i < lines.size(); ++i) {
    if (request->headers.size() == kMaxHeaders) return Error(431, "too many headers");
    const size_t colon = lines[i].find(':');
    if (colon == absl::string_view::npos || !IsToken(lines[i].substr(0, colon))) {
      return Error(400, "malformed header");
    }
    std::string name = absl::AsciiStrToLower(lines[i].substr(0, colon));
    request->headers.emplace_back(std::move(name),
                                  std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1))));
  }
  ParseResult result;
  result.outcome = ParseOutcome::kRequest;
  result.consumed = end + 4;
  return result;
}

}  // namespace framerpc::admin

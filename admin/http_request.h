// An HTTP/1.1 request head (request line and headers), parsed from the bytes a connection has
// received so far: a pure function, with no socket, fed in tests and the fuzzer a byte at a time.
// Only what the admin pages need: the method, the target (path and query), and headers by name.
// Bodies are not read (the pages are GET and HEAD).
//
// Limits, checked before anything is kept: the head at most kMaxHeadBytes, at most kMaxHeaders
// headers. Errors carry the HTTP status to answer with.
#ifndef FRAMERPC_ADMIN_HTTP_REQUEST_H_
#define FRAMERPC_ADMIN_HTTP_REQUEST_H_

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace framerpc::admin {

inline constexpr size_t kMaxHeadBytes = 8 << 10;
inline constexpr size_t kMaxHeaders = 64;

struct HttpRequest {
  std::string method;  // "GET"
  std::string path;    // "/metrics"
  std::string query;   // after '?', without it
  std::string version;  // "HTTP/1.1"
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased

  // The first value of header `name` (lower case), or "".
  absl::string_view Header(absl::string_view name) const;
};

enum class ParseOutcome { kNeedMore, kRequest, kError };

struct ParseResult {
  ParseOutcome outcome = ParseOutcome::kNeedMore;
  size_t consumed = 0;      // kRequest: the head's length
  int http_status = 0;      // kError: 400 (malformed), 431 (head too large), 505 (version)
  std::string error;        // kError: why, for the response body
};

ParseResult ParseHttpRequest(absl::string_view input, HttpRequest* request);

}  // namespace framerpc::admin

#endif  // FRAMERPC_ADMIN_HTTP_REQUEST_H_

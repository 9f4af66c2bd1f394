// JSON string escaping for log lines, where every string may come from a peer (a method name, a
// status message): whatever the bytes, the result is one valid JSON string on one line.
//
// Thread safety: pure functions.
#ifndef FRAMERPC_LOGGING_JSON_STRING_H_
#define FRAMERPC_LOGGING_JSON_STRING_H_

#include <string>

#include "absl/strings/string_view.h"

namespace framerpc::logging {

// Appends `text` to `out` as a quoted JSON string (RFC 8259): '"' and '\' escaped, control
// characters (and DEL, U+2028, U+2029) as \n, \t or \u00XX escapes, well-formed UTF-8 kept as it
// is, and every byte that is not part of well-formed UTF-8 (overlong forms and surrogates
// included) replaced by \ufffd. The output never holds a raw byte below 0x20.
void AppendJsonString(absl::string_view text, std::string* out);

// For the text format: `text` as it is if it is non-empty printable ASCII without spaces, '"',
// '\' or '=' (so that key=value pairs split unambiguously), otherwise quoted as above.
void AppendTextValue(absl::string_view text, std::string* out);

}  // namespace framerpc::logging

#endif  // FRAMERPC_LOGGING_JSON_STRING_H_

// UTF-8 validity, for names that must go into proto3 `string` fields (which refuse to parse
// anything else). Stateless; thread-safe.
#ifndef FRAMERPC_SERVICES_FILE_UTF8_H_
#define FRAMERPC_SERVICES_FILE_UTF8_H_

#include "absl/strings/string_view.h"

namespace framerpc::file {

// Whether `text` is well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates (U+D800 to
// U+DFFF), nothing above U+10FFFF, no truncated sequence.
bool IsValidUtf8(absl::string_view text);

}  // namespace framerpc::file

#endif  // FRAMERPC_SERVICES_FILE_UTF8_H_

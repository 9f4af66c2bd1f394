// Log levels, and their names on the command line and in log lines.
#ifndef FRAMERPC_LOGGING_LEVEL_H_
#define FRAMERPC_LOGGING_LEVEL_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace framerpc::logging {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// How a log line is written: "text" (human-readable, one line per record) or "json" (one JSON
// object per line).
enum class Format { kText, kJson };

// "debug", "info", "warn", "error".
const char* LevelName(Level level);
// The inverse of LevelName (also "warning"); INVALID_ARGUMENT for anything else.
absl::StatusOr<Level> ParseLevel(absl::string_view name);
// "text" or "json"; INVALID_ARGUMENT for anything else.
absl::StatusOr<Format> ParseFormat(absl::string_view name);

}  // namespace framerpc::logging

#endif  // FRAMERPC_LOGGING_LEVEL_H_

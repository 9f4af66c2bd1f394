#include "logging/level.h"

#include "absl/strings/str_cat.h"

namespace framerpc::logging {

const char* LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "unknown";
}

absl::StatusOr<Level> ParseLevel(absl::string_view name) {
  for (Level level : {Level::kDebug, Level::kInfo, Level::kWarn, Level::kError}) {
    if (name == LevelName(level)) return level;
  }
  if (name == "warning") return Level::kWarn;
  return absl::InvalidArgumentError(
      absl::StrCat("log level must be debug, info, warn or error, not '", name, "'"));
}

absl::StatusOr<Format> ParseFormat(absl::string_view name) {
  if (name == "text") return Format::kText;
  if (name == "json") return Format::kJson;
  return absl::InvalidArgumentError(
      absl::StrCat("log format must be text or json, not '", name, "'"));
}

}  // namespace framerpc::logging

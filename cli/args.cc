#include "cli/args.h"

#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"

namespace framerpc::cli {

std::vector<std::string> TakeRepeatedFlag(absl::string_view name, std::vector<std::string>* args) {
  std::vector<std::string> values;
  std::vector<std::string> kept;
  size_t i = 0;
  if (!args->empty()) kept.push_back(std::move((*args)[i++]));
  for (; i < args->size() && (*args)[i] != "--"; ++i) {
    std::string& arg = (*args)[i];
    absl::string_view rest = arg;
    const bool is_flag = absl::ConsumePrefix(&rest, "--") || absl::ConsumePrefix(&rest, "-");
    if (is_flag && absl::ConsumePrefix(&rest, name)) {
      if (absl::ConsumePrefix(&rest, "=")) {
        values.emplace_back(rest);
        continue;
      }
      if (rest.empty() && i + 1 < args->size() && (*args)[i + 1] != "--") {
        values.push_back(std::move((*args)[++i]));
        continue;
      }
    }
    kept.push_back(std::move(arg));
  }
  for (; i < args->size(); ++i) kept.push_back(std::move((*args)[i]));
  *args = std::move(kept);
  return values;
}

absl::StatusOr<Metadata> ParseMetadata(const std::vector<std::string>& values) {
  Metadata metadata;
  for (const std::string& value : values) {
    for (absl::string_view pair : absl::StrSplit(value, ',', absl::SkipEmpty())) {
      const size_t eq = pair.find('=');
      if (eq == absl::string_view::npos || eq == 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("bad --metadata entry \"", pair, "\": expected key=value"));
      }
      metadata.emplace_back(std::string(pair.substr(0, eq)), std::string(pair.substr(eq + 1)));
    }
  }
  return metadata;
}

void DashedFlagsToUnderscores(const std::vector<std::string>& names,
                              std::vector<std::string>* args) {
  for (size_t i = 1; i < args->size() && (*args)[i] != "--"; ++i) {
    absl::string_view rest = (*args)[i];
    if (!absl::ConsumePrefix(&rest, "--") && !absl::ConsumePrefix(&rest, "-")) continue;
    const size_t eq = rest.find('=');
    const absl::string_view name = rest.substr(0, eq);
    for (const std::string& known : names) {
      if (name != known) continue;
      std::string rewritten = absl::StrCat("--", absl::StrReplaceAll(name, {{"-", "_"}}));
      if (eq != absl::string_view::npos) absl::StrAppend(&rewritten, rest.substr(eq));
      (*args)[i] = std::move(rewritten);
      break;
    }
  }
}

absl::StatusOr<Metadata> ParseHeaders(const std::vector<std::string>& values) {
  Metadata metadata;
  for (const std::string& value : values) {
    const size_t colon = value.find(':');
    const absl::string_view key =
        absl::StripAsciiWhitespace(absl::string_view(value).substr(0, colon));
    if (colon == std::string::npos || key.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad -H header '", value, "': expected 'key: value'"));
    }
    metadata.emplace_back(std::string(key),
                          std::string(absl::StripAsciiWhitespace(
                              absl::string_view(value).substr(colon + 1))));
  }
  return metadata;
}

absl::StatusOr<absl::Duration> ParseTimeout(absl::string_view text) {
  absl::Duration duration;
  double seconds = 0;
  if (absl::SimpleAtod(text, &seconds) && std::isfinite(seconds)) {
    return absl::Seconds(seconds);
  }
  if (absl::ParseDuration(text, &duration)) return duration;
  return absl::InvalidArgumentError(absl::StrCat(
      "--timeout '", text, "' is neither a number of seconds (5, 0.25) nor a duration (500ms, "
      "5s, 1m30s, inf)"));
}

}  // namespace framerpc::cli

#include "cli/args.h"

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
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

}  // namespace framerpc::cli

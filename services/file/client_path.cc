#include "services/file/client_path.h"

#include <limits.h>

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace framerpc::file {
namespace {

constexpr size_t kMaxQuoted = 128;

}  // namespace

std::string QuotePath(absl::string_view path) {
  const bool cut = path.size() > kMaxQuoted;
  return absl::StrCat("'", absl::CHexEscape(path.substr(0, kMaxQuoted)), cut ? "...'" : "'");
}

absl::StatusOr<ClientPath> ClientPath::Parse(absl::string_view path) {
  // Cheap whole-string checks first, before splitting anything a hostile client sent.
  if (path.empty()) return absl::InvalidArgumentError("path is empty");
  if (path.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("path ", QuotePath(path), " contains a NUL byte"));
  }
  if (path.size() >= PATH_MAX) {
    return absl::InvalidArgumentError(absl::StrCat("path ", QuotePath(path), " is ", path.size(),
                                                   " bytes, longer than PATH_MAX (", PATH_MAX - 1,
                                                   ")"));
  }
  if (path.front() == '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("absolute paths are not allowed: ", QuotePath(path)));
  }
  std::vector<std::string> components;
  for (absl::string_view name : absl::StrSplit(path, '/')) {
    if (name.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("path ", QuotePath(path), " contains an empty component"));
    }
    if (name.size() > NAME_MAX) {
      return absl::InvalidArgumentError(absl::StrCat("path ", QuotePath(path), " has a name of ",
                                                     name.size(), " bytes, longer than NAME_MAX (",
                                                     NAME_MAX, ")"));
    }
    if (name == ".") continue;
    if (name == "..") {
      if (components.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("path ", QuotePath(path), " escapes the root"));
      }
      components.pop_back();
      continue;
    }
    components.emplace_back(name);
  }
  return ClientPath(std::move(components));
}

std::string ClientPath::Relative() const {
  return is_root() ? std::string(".") : absl::StrJoin(components_, "/");
}

ClientPath ClientPath::Parent() const {
  return ClientPath(std::vector<std::string>(components_.begin(), components_.end() - 1));
}

}  // namespace framerpc::file

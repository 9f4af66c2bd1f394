#include "services/command/program_allowlist.h"

#include "absl/strings/str_cat.h"

namespace framerpc::command {

absl::StatusOr<ProgramAllowlist> ProgramAllowlist::Create(const std::vector<std::string>& entries) {
  ProgramAllowlist allowlist;
  for (const std::string& entry : entries) {
    if (entry.empty() || entry.find('\0') != std::string::npos) {
      return absl::InvalidArgumentError("empty or NUL-containing allowlist entry");
    }
    if (entry.front() == '/') {
      allowlist.paths_.insert(entry);
    } else if (entry.find('/') == std::string::npos) {
      allowlist.names_.insert(entry);
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "allowlist entry '", entry, "' must be an absolute path or a bare program name"));
    }
  }
  return allowlist;
}

absl::Status ProgramAllowlist::Check(absl::string_view requested,
                                     absl::string_view resolved) const {
  const bool bare = requested.find('/') == absl::string_view::npos;
  if (bare && names_.count(requested) > 0) return absl::OkStatus();
  if (!resolved.empty() && paths_.count(resolved) > 0) return absl::OkStatus();
  return absl::PermissionDeniedError(
      absl::StrCat("program '", requested, "' is not in the allowlist"));
}

}  // namespace framerpc::command

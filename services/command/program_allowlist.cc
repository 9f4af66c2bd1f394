#include "services/command/program_allowlist.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/command/program_path.h"

namespace framerpc::command {
namespace {

absl::Status EntryError(const std::string& entry, const absl::Status& status) {
  return absl::Status(status.code(),
                      absl::StrCat("allowed program '", entry, "': ", status.message()));
}

absl::Status NotAllowed(absl::string_view requested) {
  return absl::PermissionDeniedError(
      absl::StrCat("program '", requested, "' is not in the allowlist"));
}

}  // namespace

absl::StatusOr<ProgramAllowlist> ProgramAllowlist::Create(const std::vector<std::string>& entries,
                                                          std::string path_env) {
  ProgramAllowlist allowlist(std::move(path_env));
  for (const std::string& entry : entries) {
    if (entry.empty() || entry.find('\0') != std::string::npos) {
      return absl::InvalidArgumentError("empty or NUL-containing allowlist entry");
    }
    const bool absolute = entry.front() == '/';
    if (!absolute && entry.find('/') != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "allowlist entry '", entry, "' must be an absolute path or a bare program name"));
    }
    absl::StatusOr<std::string> resolved = ResolveProgram(entry, allowlist.path_env_);
    if (!resolved.ok()) return EntryError(entry, resolved.status());
    absl::StatusOr<PinnedProgram> pinned = PinnedProgram::Pin(*std::move(resolved));
    if (!pinned.ok()) return EntryError(entry, pinned.status());
    (absolute ? allowlist.paths_ : allowlist.names_).insert_or_assign(entry, *std::move(pinned));
  }
  return allowlist;
}

absl::StatusOr<ScopedFd> ProgramAllowlist::Open(absl::string_view requested) const {
  if (absl::StartsWith(requested, "/")) {
    auto it = paths_.find(requested);
    if (it == paths_.end()) return NotAllowed(requested);
    return it->second.Open(requested);
  }
  if (requested.empty() || requested.find('/') != absl::string_view::npos) {
    return NotAllowed(requested);
  }
  // A bare name: resolved through PATH now, as the request would run it.
  absl::StatusOr<std::string> resolved = ResolveProgram(requested, path_env_);
  if (auto it = names_.find(requested); it != names_.end()) {
    if (!resolved.ok() || *resolved != it->second.path()) {
      return absl::PermissionDeniedError(absl::StrCat(
          "program '", requested, "' has changed since the server started (PATH now leads to ",
          resolved.ok() ? *resolved : std::string(resolved.status().message()), ", not ",
          it->second.path(), ")"));
    }
    return it->second.Open(requested);
  }
  // Refused alike whether or not PATH finds such a program.
  if (!resolved.ok()) return NotAllowed(requested);
  auto it = paths_.find(*resolved);
  if (it == paths_.end()) return NotAllowed(requested);
  return it->second.Open(requested);
}

}  // namespace framerpc::command

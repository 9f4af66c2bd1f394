// Which programs a command service may run.
//
// Entries are either absolute paths ("/usr/bin/ls") or bare names ("ls"):
//  - a bare-name entry allows a request that names the program the same bare way, which is then
//    found through the PATH the service configures. It does not allow "/tmp/x/ls" or "./ls":
//    otherwise anyone able to create a file called "ls" could run it.
//  - an absolute entry allows the request whose resolved path (ResolveProgram) is exactly that
//    path. Paths are compared as strings, without following symlinks (on a multi-call binary
//    such as busybox every name resolves to the same file, so canonicalising would allow them
//    all). "ls" resolved through PATH to "/usr/bin/ls" matches "/usr/bin/ls", not "/bin/ls".
// An empty allowlist allows nothing.
//
// Thread safety: immutable after Create; safe to share between threads.
#ifndef FRAMERPC_SERVICES_COMMAND_PROGRAM_ALLOWLIST_H_
#define FRAMERPC_SERVICES_COMMAND_PROGRAM_ALLOWLIST_H_

#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace framerpc::command {

class ProgramAllowlist {
 public:
  // INVALID_ARGUMENT for an entry that is empty, relative with a '/' ("bin/ls"), or contains NUL.
  static absl::StatusOr<ProgramAllowlist> Create(const std::vector<std::string>& entries);

  // `requested` is argv[0] as the client sent it; `resolved` is ResolveProgram's result for it.
  // PERMISSION_DENIED "program 'x' is not in the allowlist" unless an entry allows it.
  absl::Status Check(absl::string_view requested, absl::string_view resolved) const;

 private:
  ProgramAllowlist() = default;

  std::set<std::string, std::less<>> names_;  // bare names
  std::set<std::string, std::less<>> paths_;  // absolute paths
};

}  // namespace framerpc::command

#endif  // FRAMERPC_SERVICES_COMMAND_PROGRAM_ALLOWLIST_H_

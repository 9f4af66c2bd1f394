// Which programs a command service may run, pinned when the server starts.
//
// Entries are either absolute paths ("/usr/bin/ls") or bare names ("ls"):
//  - a bare-name entry allows a request that names the program the same bare way, which is then
//    found through the PATH the service configures. It does not allow "/tmp/x/ls" or "./ls":
//    otherwise anyone able to create a file called "ls" could run it.
//  - an absolute entry allows the request whose resolved path (ResolveProgram) is exactly that
//    path. Paths are compared as strings, without following symlinks (on a multi-call binary
//    such as busybox every name resolves to the same file, so canonicalising would allow them
//    all). "ls" resolved through PATH to "/usr/bin/ls" matches "/usr/bin/ls", not "/bin/ls".
//  - a request with a '/' that is not absolute ("./ls", "bin/ls") is never allowed.
// An empty allowlist allows nothing.
//
// Pinning: Create resolves every entry once (bare names through PATH) and pins the file it leads
// to (PinnedProgram: real path, device, inode, ...); an entry that does not resolve to an
// executable file fails Create. At each request, after the match above, the entry is resolved
// and opened again and must still be that file: a program swapped for a symlink, replaced by
// another file, modified, or shadowed by a new file earlier in PATH is PERMISSION_DENIED ("has
// changed since the server started"). The descriptor opened for that check is what runs.
//
// Thread safety: immutable after Create; safe to share between threads.
#ifndef FRAMERPC_SERVICES_COMMAND_PROGRAM_ALLOWLIST_H_
#define FRAMERPC_SERVICES_COMMAND_PROGRAM_ALLOWLIST_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/scoped_fd.h"
#include "services/command/pinned_program.h"

namespace framerpc::command {

class ProgramAllowlist {
 public:
  // `path_env` is the PATH bare names are resolved through, now and at every request. Errors:
  // INVALID_ARGUMENT for an entry that is empty, relative with a '/' ("bin/ls"), or contains NUL;
  // for an entry that does not resolve to an executable file, ResolveProgram's or Pin's error
  // (NOT_FOUND, PERMISSION_DENIED), naming the entry.
  static absl::StatusOr<ProgramAllowlist> Create(const std::vector<std::string>& entries,
                                                 std::string path_env);

  // The file to execute for `requested` (argv[0] as the client sent it), opened and checked as
  // above. PERMISSION_DENIED "program 'x' is not in the allowlist" unless an entry allows it,
  // whether or not such a file exists; PERMISSION_DENIED "... has changed since the server
  // started" if the entry's file is not the one pinned.
  absl::StatusOr<ScopedFd> Open(absl::string_view requested) const;

 private:
  explicit ProgramAllowlist(std::string path_env) : path_env_(std::move(path_env)) {}

  std::string path_env_;
  std::map<std::string, PinnedProgram, std::less<>> names_;  // bare-name entries
  std::map<std::string, PinnedProgram, std::less<>> paths_;  // absolute entries
};

}  // namespace framerpc::command

#endif  // FRAMERPC_SERVICES_COMMAND_PROGRAM_ALLOWLIST_H_

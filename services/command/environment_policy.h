// The environment a command runs with: an allowlist, never a denylist (sudo's env_reset).
//
// The child's environment is built from nothing: a fixed base that the server sets (PATH, LANG,
// HOME), plus the request's variables whose names the operator allowed (--command_env_allow).
// Nothing of the server's own environment reaches a command. A request naming any other variable
// is refused with PERMISSION_DENIED, naming it.
//
// Defence in depth: some names are refused even in the operator's allowlist, because setting them
// lets a caller run code of its choosing inside an allowed program, or change what the base
// means. CheckAllowableName says which, and why; the list is in docs/command_service.md.
//
// Thread safety: immutable after Create; safe to share between threads.
#ifndef FRAMERPC_SERVICES_COMMAND_ENVIRONMENT_POLICY_H_
#define FRAMERPC_SERVICES_COMMAND_ENVIRONMENT_POLICY_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/map.h"

namespace framerpc::command {

struct EnvironmentConfig {
  std::vector<std::string> allowed_names;  // what requests may set
  std::string path;                        // PATH
  std::string lang;                        // LANG; empty: no LANG
  std::string home;                        // HOME; empty: the command's working directory
};

// OK if an operator may allow requests to set `name`; otherwise INVALID_ARGUMENT saying why:
// names that are not portable identifiers ([A-Za-z_][A-Za-z0-9_]*, which also excludes bash's
// exported functions, "BASH_FUNC_f%%"), the base the server sets (PATH, HOME), the dynamic
// loader's and glibc's (LD_*, the set-user-ID-unsafe list, MALLOC_*), shell startup and parsing
// knobs (BASH_ENV, ENV, BASH_FUNC_*, SHELLOPTS, BASHOPTS, PS4, IFS, ...), interpreters' startup
// options and module paths (PYTHON*, PERL*, RUBY*, NODE_*, ...), and variables that name a
// program to run or a configuration that can (GIT_*, EDITOR, PAGER, OPENSSL_CONF, ...).
absl::Status CheckAllowableName(absl::string_view name);

class EnvironmentPolicy {
 public:
  using RequestEnv = google::protobuf::Map<std::string, std::string>;

  // INVALID_ARGUMENT listing every refused allowed name with its reason (CheckAllowableName), or
  // for a base value containing NUL.
  static absl::StatusOr<EnvironmentPolicy> Create(EnvironmentConfig config);

  // INVALID_ARGUMENT for a malformed entry (empty name, '=' or NUL in the name, NUL in the
  // value); PERMISSION_DENIED "environment variable 'X' is not allowed ..." for a name outside the
  // allowlist. Entries are checked in name order; the first bad one is reported.
  absl::Status Check(const RequestEnv& request) const;

  // The command's whole environment: the base, HOME defaulting to `working_directory`, then the
  // request's variables (which Check() must have accepted; LANG may be overridden if allowed).
  std::map<std::string, std::string> Build(const RequestEnv& request,
                                           absl::string_view working_directory) const;

  const std::set<std::string, std::less<>>& allowed_names() const { return allowed_; }

 private:
  explicit EnvironmentPolicy(EnvironmentConfig config);

  std::set<std::string, std::less<>> allowed_;
  std::string path_;
  std::string lang_;
  std::string home_;
};

}  // namespace framerpc::command

#endif  // FRAMERPC_SERVICES_COMMAND_ENVIRONMENT_POLICY_H_

// framerpc_server's credential flags, shared by the services that need them: the token file, the
// Unix-socket peer uids a service admits, and --trust_local_peers, turned into an AccessPolicy
// (services/auth/access_policy.h). Kept out of main.cc so that it can be tested.
#ifndef FRAMERPC_SERVER_CREDENTIAL_FLAGS_H_
#define FRAMERPC_SERVER_CREDENTIAL_FLAGS_H_

#include <sys/types.h>

#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/auth/access_policy.h"

namespace framerpc::server {

struct CredentialFlags {
  std::string auth_token_file;              // empty: no token
  std::vector<std::string> allow_uids;      // numeric uids or user names
  // SAN URIs or DNS names of verified TLS client certificates (--*_allow_identities).
  std::vector<std::string> allow_identities;
  bool trust_local_peers = false;
  // Told of the policy's refusals (the refusal log); not owned, may be null.
  RefusalObserver* refusals = nullptr;
};

// Numeric uids, or user names looked up in the password database. INVALID_ARGUMENT naming
// `flag_name` and the entry for an unknown name, a negative number, or an empty entry.
absl::StatusOr<std::set<uid_t>> ParseUids(const std::vector<std::string>& entries,
                                          const std::string& flag_name);

// The policy accepting what the flags name, with `subject` for its messages; the token read from
// its file (SharedSecret::FromFile's errors). May admit nobody: callers decide whether that is
// an error. An empty identity is INVALID_ARGUMENT naming `identities_flag_name`.
absl::StatusOr<auth::AccessPolicy> BuildAccessPolicy(const CredentialFlags& flags,
                                                     const std::string& uids_flag_name,
                                                     const std::string& subject,
                                                     const std::string& identities_flag_name =
                                                         "--allow_identities");

}  // namespace framerpc::server

#endif  // FRAMERPC_SERVER_CREDENTIAL_FLAGS_H_

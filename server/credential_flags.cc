#include "server/credential_flags.h"

#include <pwd.h>
#include <unistd.h>

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/auth/shared_secret.h"

namespace framerpc::server {
namespace {

absl::StatusOr<uid_t> LookUpUser(const std::string& name, const std::string& flag_name) {
  long size = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::string buffer(size > 0 ? static_cast<size_t>(size) : 16384, '\0');
  passwd entry;
  passwd* found = nullptr;
  const int rc = ::getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
  if (rc != 0 || found == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag_name, ": no user named '", name, "' (give a name or a numeric uid)"));
  }
  return found->pw_uid;
}

}  // namespace

absl::StatusOr<std::set<uid_t>> ParseUids(const std::vector<std::string>& entries,
                                          const std::string& flag_name) {
  std::set<uid_t> uids;
  for (const std::string& entry : entries) {
    if (entry.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(flag_name, ": an empty entry"));
    }
    uint32_t uid = 0;
    if (entry.find_first_not_of("0123456789") == std::string::npos) {
      if (!absl::SimpleAtoi(entry, &uid) || uid == static_cast<uint32_t>(-1)) {
        return absl::InvalidArgumentError(
            absl::StrCat(flag_name, ": '", entry, "' is not a valid uid"));
      }
      uids.insert(static_cast<uid_t>(uid));
      continue;
    }
    absl::StatusOr<uid_t> user = LookUpUser(entry, flag_name);
    if (!user.ok()) return user.status();
    uids.insert(*user);
  }
  return uids;
}

absl::StatusOr<auth::AccessPolicy> BuildAccessPolicy(const CredentialFlags& flags,
                                                     const std::string& uids_flag_name,
                                                     const std::string& subject,
                                                     const std::string& identities_flag_name) {
  auth::AccessPolicy policy;
  policy.set_subject(subject);
  if (!flags.auth_token_file.empty()) {
    absl::StatusOr<auth::SharedSecret> token = auth::SharedSecret::FromFile(flags.auth_token_file);
    if (!token.ok()) return token.status();
    policy.AcceptToken(*std::move(token));
  }
  absl::StatusOr<std::set<uid_t>> uids = ParseUids(flags.allow_uids, uids_flag_name);
  if (!uids.ok()) return uids.status();
  if (!uids->empty()) policy.AcceptUnixUids(*std::move(uids));
  std::set<std::string> identities;
  for (const std::string& identity : flags.allow_identities) {
    if (identity.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(identities_flag_name, ": an empty identity"));
    }
    identities.insert(identity);
  }
  if (!identities.empty()) policy.AcceptTlsIdentities(std::move(identities));
  if (flags.trust_local_peers) policy.TrustLocalPeers();
  policy.set_refusal_observer(flags.refusals);
  return policy;
}

}  // namespace framerpc::server

#include "services/auth/access_policy.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace framerpc::auth {
namespace {

// "a", "a or b", "a, b or c".
std::string OrList(const std::vector<std::string>& items) {
  if (items.size() <= 1) return items.empty() ? "" : items.front();
  std::vector<std::string> head(items.begin(), items.end() - 1);
  return absl::StrCat(absl::StrJoin(head, ", "), " or ", items.back());
}

}  // namespace

AccessPolicy AccessPolicy::Open() {
  AccessPolicy policy;
  policy.open_ = true;
  return policy;
}

AccessPolicy& AccessPolicy::set_subject(std::string subject) {
  subject_ = std::move(subject);
  return *this;
}

AccessPolicy& AccessPolicy::AcceptToken(SharedSecret token) {
  token_ = std::move(token);
  return *this;
}

AccessPolicy& AccessPolicy::AcceptUnixUids(std::set<uid_t> uids) {
  unix_uids_.insert(uids.begin(), uids.end());
  return *this;
}

AccessPolicy& AccessPolicy::AcceptTlsIdentities(std::set<std::string> identities) {
  tls_identities_.insert(identities.begin(), identities.end());
  return *this;
}

AccessPolicy& AccessPolicy::TrustLocalPeers() {
  trust_local_ = true;
  return *this;
}

AccessPolicy& AccessPolicy::set_refusal_observer(RefusalObserver* observer) {
  refusals_ = observer;
  return *this;
}

std::string AccessPolicy::Describe() const {
  if (open_) return "anyone";
  std::vector<std::string> accepted;
  if (token_) accepted.push_back(absl::StrCat("a bearer token ('", kAuthorizationKey, ": ",
                                              kBearerPrefix, "<token>' metadata)"));
  if (!unix_uids_.empty()) {
    std::vector<std::string> uids;
    for (uid_t uid : unix_uids_) uids.push_back(absl::StrCat(uid));
    accepted.push_back(absl::StrCat("a Unix-socket peer with uid ", OrList(uids)));
  }
  if (!tls_identities_.empty()) {
    std::vector<std::string> names(tls_identities_.begin(), tls_identities_.end());
    accepted.push_back(absl::StrCat("a TLS client certificate naming ", OrList(names)));
  }
  if (trust_local_) accepted.push_back("any peer on this host (loopback or Unix socket)");
  if (accepted.empty()) return "nobody";
  return OrList(accepted);
}

absl::Status AccessPolicy::Check(const CallCredentials& call) const {
  absl::Status status = Judge(call);
  if (!status.ok() && refusals_ != nullptr) {
    refusals_->OnRefusal(RefusalKind::kPolicy, call.peer, status.ToString());
  }
  return status;
}

absl::Status AccessPolicy::Judge(const CallCredentials& call) const {
  if (open_) return absl::OkStatus();
  if (call.authorization != nullptr && token_) {
    absl::Status status = token_->Check(call.authorization);
    if (status.ok()) return status;
    return absl::UnauthenticatedError(absl::StrCat(subject_, ": ", status.message()));
  }
  if (call.unix_uid.has_value() && unix_uids_.count(*call.unix_uid) > 0) return absl::OkStatus();
  std::vector<std::string> certified;  // the identities the call's certificate names
  for (const std::vector<std::string>* names : {call.tls_uri_sans, call.tls_dns_sans}) {
    if (names == nullptr) continue;
    for (const std::string& name : *names) {
      if (tls_identities_.count(name) > 0) return absl::OkStatus();
      certified.push_back(name);
    }
  }
  if (trust_local_ && call.local_peer) return absl::OkStatus();
  if (!admits_anyone()) {
    return absl::PermissionDeniedError(absl::StrCat(subject_, " admits no calls on this server"));
  }
  if (!certified.empty() && !tls_identities_.empty()) {
    return absl::PermissionDeniedError(absl::StrCat(
        subject_, ": client identity ", absl::StrJoin(certified, ", "), " is not allowed; ",
        subject_, " accepts ", Describe()));
  }
  if (call.unix_uid.has_value() && !unix_uids_.empty()) {
    return absl::PermissionDeniedError(absl::StrCat(
        subject_, ": peer uid ", *call.unix_uid, " is not allowed; ", subject_, " accepts ",
        Describe()));
  }
  return absl::UnauthenticatedError(
      absl::StrCat(subject_, " needs a credential: ", Describe()));
}

}  // namespace framerpc::auth

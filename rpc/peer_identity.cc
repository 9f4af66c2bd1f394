#include "rpc/peer_identity.h"

#include "absl/strings/str_cat.h"

namespace framerpc {

std::string PeerIdentity::DebugString() const {
  std::string s = local ? "local" : "remote";
  if (unix_uid.has_value()) absl::StrAppend(&s, " unix uid ", *unix_uid);
  if (unix_gid.has_value()) absl::StrAppend(&s, " gid ", *unix_gid);
  if (unix_pid.has_value()) absl::StrAppend(&s, " pid ", *unix_pid);
  if (tls) absl::StrAppend(&s, " tls");
  for (const std::string& uri : tls_uri_sans) absl::StrAppend(&s, " ", uri);
  for (const std::string& dns : tls_dns_sans) absl::StrAppend(&s, " dns:", dns);
  return s;
}

}  // namespace framerpc

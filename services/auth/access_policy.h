// AccessPolicy: which calls a protected service admits (the command service; the file service's
// reads and writes), from the credentials a call presents. RPC-independent: callers describe the
// call as CallCredentials (services/auth/call_credentials.h builds them from a ServerContext).
//
// A call is admitted when any accepted credential holds:
//  - a bearer token (SharedSecret) in its `authorization` metadata. A call that presents an
//    `authorization` value is judged by it alone: a wrong token is refused even if the call would
//    have been admitted otherwise, so that a client never mistakes a lucky admission for a valid
//    token;
//  - on a Unix socket, the peer's uid as the kernel reports it (SO_PEERCRED), if it is listed;
//  - over TLS, a client certificate that verified in the handshake, if one of its SAN URIs
//    (SPIFFE IDs as they are) or DNS names is listed;
//  - a peer on this host (loopback or a Unix socket), only if the operator chose to trust every
//    local user (TrustLocalPeers; any user of the host, `nobody` included, is then admitted);
//  - anything at all, for an open policy (a public, read-only file service).
// A default-constructed policy admits nobody, so a service is closed until configured.
//
// Refusals: UNAUTHENTICATED when the call presents no accepted credential or a wrong token;
// PERMISSION_DENIED when it is a Unix-socket peer whose uid is not listed, or a TLS client whose
// certificate names no listed identity. Messages say what
// would have been accepted, never the token. Each refusal is also told to the policy's
// RefusalObserver, if it has one (the refusal log), with the call's peer.
//
// Thread safety: immutable once configured; Check() is safe from any number of threads.
#ifndef FRAMERPC_SERVICES_AUTH_ACCESS_POLICY_H_
#define FRAMERPC_SERVICES_AUTH_ACCESS_POLICY_H_

#include <sys/types.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "base/refusal_observer.h"
#include "services/auth/shared_secret.h"

namespace framerpc::auth {

// What a call presents, as its transport established it.
struct CallCredentials {
  // The call's first `authorization` metadata value, or null. Valid for the call.
  const std::string* authorization = nullptr;
  // The peer is on this host: loopback or a Unix socket.
  bool local_peer = false;
  // On a Unix socket, the peer's uid (SO_PEERCRED).
  std::optional<uid_t> unix_uid;
  // Over TLS, the SAN URIs and DNS names of the client's certificate, verified in the handshake
  // (empty without one). Valid for the call; null: none.
  const std::vector<std::string>* tls_uri_sans = nullptr;
  const std::vector<std::string>* tls_dns_sans = nullptr;
  // The peer's address, for the refusal log. Valid for the call.
  absl::string_view peer;
};

class AccessPolicy {
 public:
  // Admits nobody.
  AccessPolicy() = default;
  // Admits every call.
  static AccessPolicy Open();

  // Each adds a credential the policy accepts. `subject` names what is protected in messages
  // ("the command service").
  AccessPolicy& set_subject(std::string subject);
  AccessPolicy& AcceptToken(SharedSecret token);
  AccessPolicy& AcceptUnixUids(std::set<uid_t> uids);
  // Client identities: SAN URIs (e.g. spiffe://example.org/ns/prod/sa/deploy) or DNS names of a
  // verified TLS client certificate, matched exactly.
  AccessPolicy& AcceptTlsIdentities(std::set<std::string> identities);
  AccessPolicy& TrustLocalPeers();
  // Told of every refusal (kind kPolicy). Not owned; must outlive the policy and its copies.
  AccessPolicy& set_refusal_observer(RefusalObserver* observer);

  // OK, or the refusal described above.
  absl::Status Check(const CallCredentials& call) const;

  bool is_open() const { return open_; }
  bool accepts_token() const { return token_.has_value(); }
  const std::set<uid_t>& unix_uids() const { return unix_uids_; }
  const std::set<std::string>& tls_identities() const { return tls_identities_; }
  bool trusts_local_peers() const { return trust_local_; }
  // Whether any call at all can be admitted.
  bool admits_anyone() const {
    return open_ || token_.has_value() || !unix_uids_.empty() || !tls_identities_.empty() ||
           trust_local_;
  }

  // What is accepted, in words: "anyone", "nobody", or e.g. "a bearer token or a Unix-socket
  // peer with uid 0 or 1000".
  std::string Describe() const;

 private:
  absl::Status Judge(const CallCredentials& call) const;

  std::string subject_ = "this service";
  bool open_ = false;
  std::optional<SharedSecret> token_;
  std::set<uid_t> unix_uids_;
  std::set<std::string> tls_identities_;
  bool trust_local_ = false;
  RefusalObserver* refusals_ = nullptr;
};

}  // namespace framerpc::auth

#endif  // FRAMERPC_SERVICES_AUTH_ACCESS_POLICY_H_

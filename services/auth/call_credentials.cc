#include "services/auth/call_credentials.h"

#include "services/auth/shared_secret.h"

namespace framerpc::auth {

CallCredentials CredentialsOf(const ServerContext& context) {
  CallCredentials credentials;
  credentials.authorization = context.FindClientMetadata(kAuthorizationKey);
  credentials.local_peer = context.peer_identity().local;
  credentials.unix_uid = context.peer_identity().unix_uid;
  credentials.tls_uri_sans = &context.peer_identity().tls_uri_sans;
  credentials.tls_dns_sans = &context.peer_identity().tls_dns_sans;
  credentials.peer = context.peer();
  return credentials;
}

}  // namespace framerpc::auth

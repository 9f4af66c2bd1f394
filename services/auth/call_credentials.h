// The CallCredentials of a call being served: its `authorization` metadata and what its
// transport established about the peer (ServerContext::peer_identity()).
#ifndef FRAMERPC_SERVICES_AUTH_CALL_CREDENTIALS_H_
#define FRAMERPC_SERVICES_AUTH_CALL_CREDENTIALS_H_

#include "rpc/context.h"
#include "services/auth/access_policy.h"

namespace framerpc::auth {

// Valid while `context` is.
CallCredentials CredentialsOf(const ServerContext& context);

}  // namespace framerpc::auth

#endif  // FRAMERPC_SERVICES_AUTH_CALL_CREDENTIALS_H_

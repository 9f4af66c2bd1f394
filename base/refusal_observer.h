// RefusalObserver: told of every connection or call the server refuses or ends for what a peer
// did (or failed to do), for the refusal log (logging/refusal_log.h). The code that refuses
// knows this interface only: the server's connections (limits, garbage, timeouts) and the access
// policies of the protected services (policy).
//
// Thread safety: implementations are called from any thread, concurrently, on I/O threads among
// others: every method must be thread-safe, quick and non-blocking. Lifetime: an observer
// outlives whatever it is given to.
#ifndef FRAMERPC_BASE_REFUSAL_OBSERVER_H_
#define FRAMERPC_BASE_REFUSAL_OBSERVER_H_

#include <cstddef>

#include "absl/strings/string_view.h"

namespace framerpc {

enum class RefusalKind {
  kPolicy = 0,   // an access policy refused the call's credentials
  kLimit = 1,    // a connection or stream refused, or a connection shed, at a limit
  kGarbage = 2,  // a protocol error: bytes that are not the protocol
  kTimeout = 3,  // a connection closed by one of its timeouts (rpc/connection_timeouts.h)
  kTls = 4,      // a TLS handshake failed, or plaintext came to a TLS-only listener
};
inline constexpr size_t kRefusalKinds = 5;

// "policy", "limit", "garbage", "timeout", "tls".
const char* RefusalKindName(RefusalKind kind);

class RefusalObserver {
 public:
  virtual ~RefusalObserver() = default;
  // `peer`: the peer's address as the transport formats it. `reason`: in words, from the
  // server's own messages (never a credential).
  virtual void OnRefusal(RefusalKind kind, absl::string_view peer, absl::string_view reason) = 0;
};

}  // namespace framerpc

#endif  // FRAMERPC_BASE_REFUSAL_OBSERVER_H_

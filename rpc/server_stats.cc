#include "rpc/server_stats.h"

namespace framerpc {

const char* CloseReasonName(CloseReason reason) {
  switch (reason) {
    case CloseReason::kPeerClosed:
      return "peer_closed";
    case CloseReason::kReset:
      return "reset";
    case CloseReason::kGarbage:
      return "garbage";
    case CloseReason::kFirstByteTimeout:
      return "first_byte_timeout";
    case CloseReason::kHeaderTimeout:
      return "header_timeout";
    case CloseReason::kBodyTimeout:
      return "body_timeout";
    case CloseReason::kIdle:
      return "idle";
    case CloseReason::kKeepalive:
      return "keepalive";
    case CloseReason::kLimit:
      return "limit";
    case CloseReason::kHandshakeTimeout:
      return "handshake_timeout";
    case CloseReason::kTlsFailed:
      return "tls_failed";
    case CloseReason::kShutdown:
      return "shutdown";
  }
  return "unknown";
}

}  // namespace framerpc

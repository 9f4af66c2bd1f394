#include "rpc/call_observer.h"

namespace framerpc {

const char* CallTransportName(CallTransport transport) {
  switch (transport) {
    case CallTransport::kFramed:
      return "framed";
    case CallTransport::kGrpc:
      return "grpc";
    case CallTransport::kUdp:
      return "udp";
  }
  return "unknown";
}

}  // namespace framerpc

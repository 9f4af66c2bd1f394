// Internal to //rpc:channel: the Channel used for "udp:host:port" targets.
#ifndef FRAMERPC_RPC_UDP_CHANNEL_H_
#define FRAMERPC_RPC_UDP_CHANNEL_H_

#include <memory>

#include "absl/status/statusor.h"
#include "rpc/channel.h"
#include "transport/socket_address.h"

namespace framerpc {

// Unary calls over UDP, one datagram each way (docs/protocol.md, "UDP mode"). A datagram may be
// lost, so every call needs a deadline: a call without one gets `options.udp_default_timeout`.
// A lost request or reply ends the call with DEADLINE_EXCEEDED; calls are never resent, so a call
// runs at most once. TryCancel() completes the call locally (UDP has no CANCEL).
absl::StatusOr<std::unique_ptr<Channel>> CreateUdpChannel(std::string target,
                                                         const SocketAddress& address,
                                                         const ChannelOptions& options);

}  // namespace framerpc

#endif  // FRAMERPC_RPC_UDP_CHANNEL_H_

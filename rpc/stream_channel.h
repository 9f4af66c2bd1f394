// Internal to //rpc:channel: the Channel for framed targets ("host:port", "[v6]:port",
// "unix:/path"): one multiplexed connection on an I/O thread of its own, and the caller-driven
// pool of rpc/sync_calls.h for blocking calls.
#ifndef FRAMERPC_RPC_STREAM_CHANNEL_H_
#define FRAMERPC_RPC_STREAM_CHANNEL_H_

#include <memory>
#include <string>

#include "rpc/channel.h"
#include "transport/socket_address.h"
#include "transport/tls/tls_context.h"

namespace framerpc {

// `options` have been validated by Channel::Create.
// `tls`: made from options.tls when set (null otherwise).
std::unique_ptr<Channel> CreateStreamChannel(std::string target, const SocketAddress& address,
                                             const ChannelOptions& options,
                                             std::shared_ptr<TlsContext> tls = nullptr);

}  // namespace framerpc

#endif  // FRAMERPC_RPC_STREAM_CHANNEL_H_

// Internal to //rpc:channel: the Channel for framed targets ("host:port", "[v6]:port",
// "unix:/path"): one multiplexed connection on an I/O thread of its own, and the caller-driven
// pool of rpc/sync_calls.h for blocking calls. The same Channel serves in-process targets
// (rpc/in_process_channel.h), its connections made by an InProcessConnector instead of connect(2).
#ifndef FRAMERPC_RPC_STREAM_CHANNEL_H_
#define FRAMERPC_RPC_STREAM_CHANNEL_H_

#include <memory>
#include <string>

#include "rpc/channel.h"
#include "rpc/in_process_connector.h"
#include "transport/socket_address.h"
#include "transport/tls/tls_context.h"

namespace framerpc {

// `options` have been validated by Channel::Create.
// `tls`: made from options.tls when set (null otherwise).
// `in_process`: when set, connections come from it (in-memory pipes to a server of this process)
// rather than from connecting to `address`; `tls` is then null and options.max_sync_connections 0.
std::unique_ptr<Channel> CreateStreamChannel(
    std::string target, const SocketAddress& address, const ChannelOptions& options,
    std::shared_ptr<TlsContext> tls = nullptr,
    std::shared_ptr<InProcessConnector> in_process = nullptr);

// The checks Channel::Create makes of options every channel shares (busy_poll, bounds,
// keepalive): INVALID_ARGUMENT naming the option.
absl::Status ValidateChannelOptions(const ChannelOptions& options);

}  // namespace framerpc

#endif  // FRAMERPC_RPC_STREAM_CHANNEL_H_

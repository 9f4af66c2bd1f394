// NewInProcessChannel: a Channel to a Server of this process whose frames travel through memory
// (transport/memory_pipe.h) instead of a socket: no port, no file, no connect. It is the same
// Channel as a socket target's (one multiplexed connection, the same admission bounds,
// deadlines, cancellation, metadata and streams of every kind) talking to the same Server
// (its dispatcher, interceptors, limits and shutdown), so a test through it exercises the real
// code on both sides, only faster and hermetic. As gRPC's Server::InProcessChannel.
//
//   framerpc::Server server;                 // no listener needed
//   server.AddService(&echo);
//   FRPC_RETURN_IF_ERROR(server.Start());
//   FRPC_ASSIGN_OR_RETURN(std::unique_ptr<framerpc::Channel> channel,
//                         framerpc::NewInProcessChannel(server.in_process_connector()));
//   echo::EchoService::Stub stub(channel.get());
//
// Differences from a socket channel: blocking calls share the multiplexed connection (the
// caller-driven socket pool of ChannelOptions::max_sync_connections does not apply); TLS and
// busy polling are not available; the pipe holds what a socket buffer would without a bound of
// its own (a server that stops reading does not fill it, so ChannelOptions::
// output_high_water_bytes never pushes back). The server sees the peer InProcessPeerAddress()
// with this process's credentials (rpc/in_process_connector.h).
//
// Lifetime: the channel keeps the connector, not the server: the server may be shut down or
// destroyed first, after which calls fail with UNAVAILABLE. Thread-safe, as every Channel.
#ifndef FRAMERPC_RPC_IN_PROCESS_CHANNEL_H_
#define FRAMERPC_RPC_IN_PROCESS_CHANNEL_H_

#include <memory>

#include "absl/status/statusor.h"
#include "rpc/channel.h"
#include "rpc/channel_options.h"
#include "rpc/in_process_connector.h"

namespace framerpc {

// The target() of every in-process channel.
inline constexpr char kInProcessTarget[] = "in-process";

// Connects lazily, as Channel::Create does. INVALID_ARGUMENT for options Channel::Create refuses,
// and for options.tls or options.busy_poll (nothing to protect or poll).
absl::StatusOr<std::unique_ptr<Channel>> NewInProcessChannel(
    std::shared_ptr<InProcessConnector> connector, ChannelOptions options = {});

}  // namespace framerpc

#endif  // FRAMERPC_RPC_IN_PROCESS_CHANNEL_H_

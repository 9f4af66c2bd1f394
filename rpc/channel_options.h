// ChannelOptions: how a client Channel (rpc/channel.h) connects, what it bounds and how it waits.
#ifndef FRAMERPC_RPC_CHANNEL_OPTIONS_H_
#define FRAMERPC_RPC_CHANNEL_OPTIONS_H_

#include <cstddef>
#include <optional>

#include <string>

#include "absl/time/time.h"
#include "transport/frame_codec.h"
#include "transport/tls/tls_options.h"

namespace framerpc {

class CallObserver;

// What a call does when the channel is at one of its bounds (ChannelOptions below).
enum class OverLimitPolicy {
  // Fails at once with RESOURCE_EXHAUSTED, naming the bound.
  kFail,
  // Waits until there is room, at most until the call's deadline (then DEADLINE_EXCEEDED) and
  // never past its TryCancel() (CANCELLED). StartCall and StartStream then block the calling
  // thread; from the channel's I/O thread (a completion callback) they fail at once instead.
  kWait,
};

struct ChannelOptions {
  FrameLimits limits;
  absl::Duration connect_timeout = absl::Seconds(5);
  // Blocking calls (Call, and the generated blocking stubs) run on the caller's thread over
  // connections of their own, up to this many at once; beyond that, and for every asynchronous
  // call, the one multiplexed connection is used. 0 sends every call through the multiplexed
  // connection. See rpc/sync_calls.h.
  size_t max_sync_connections = 4;
  // A pooled blocking connection whose last call ended cleanly less than this long ago is reused
  // without first checking that the server has not closed it (a syscall per call). If the server
  // did close it meanwhile, a GOAWAY proves the call was not processed and it is sent again on a
  // fresh connection; a close without GOAWAY (a crash) fails the call with UNAVAILABLE, as a
  // crash during the call would.
  absl::Duration sync_probe_bypass = absl::Milliseconds(1);
  // Busy polling, off by default: after each burst of work the channel's I/O thread keeps polling
  // its socket for up to this long before it sleeps, and a blocking call spins on its socket for
  // up to this long before it sleeps in recv. A reply that arrives within the window is seen
  // without a thread being woken by the kernel (tens of microseconds on a virtual machine), at the
  // cost of a CPU kept busy for the window. For latency-bound clients with a core to spare; see
  // EventLoop's constructor. Stream-socket channels only (udp: channels check it but do not poll).
  // At most 1 s.
  absl::Duration busy_poll = absl::ZeroDuration();
  // Bounds on what the channel holds for the calls on its multiplexed connection (asynchronous
  // calls, streams, and blocking calls that do not get a pooled connection of their own), so that
  // a client cannot grow its memory without limit when the server is slow or gone. Past one, a
  // new call fails or waits as `on_limit` says. Blocking calls on the caller-driven path are
  // bounded by max_sync_connections instead.
  //
  // Calls started and not yet completed (each stream counts as one).
  size_t max_outstanding_calls = size_t{64} << 10;
  // Bytes of REQUEST frames the channel holds before they reach a socket: while the connection is
  // being established, or on their way to the I/O thread. A single request larger than this is
  // admitted when nothing else is queued.
  size_t max_queued_request_bytes = size_t{256} << 20;
  // The connection's unsent output (what the socket has not taken) above which no new call is
  // admitted, until it has drained to half of it: the server is not reading. Stream messages are
  // bounded by flow control (docs/protocol.md §11.2) and count toward this output.
  size_t output_high_water_bytes = size_t{16} << 20;
  OverLimitPolicy on_limit = OverLimitPolicy::kFail;
  // Keepalive of the multiplexed connection, off by default (0). While calls are in flight on it
  // and nothing has arrived from the server for keepalive_time, the channel sends a PING; if
  // nothing at all arrives within keepalive_timeout after it, the server is taken for dead: the
  // connection is closed and its calls fail with UNAVAILABLE. This finds a server (or a path to
  // it) that died without closing the connection, which otherwise only the calls' deadlines end.
  // Only for servers of this version or later (docs/protocol.md §9.1): an older server treats a
  // PING as a protocol error and closes the connection. Blocking calls on the caller-driven path
  // are not probed; give them deadlines.
  absl::Duration keepalive_time = absl::ZeroDuration();
  absl::Duration keepalive_timeout = absl::Seconds(20);
  // UDP only: the deadline of a call that sets none (a lost datagram must not hang a call).
  absl::Duration udp_default_timeout = absl::Seconds(5);
  // Channels over several servers (a target of rpc/target.h: ipv4:, ipv6:, dns: or a list):
  // how a call picks its server (rpc/balancer.h: pick_first, round_robin, least_request,
  // ring_hash), the metadata key ring_hash hashes (calls without it go round robin), how often a
  // dns: target is resolved again, and how long a server whose call ended UNAVAILABLE is passed
  // over (doubling after each further failure, up to max_eject_time; a success re-admits it).
  std::string load_balancing = "pick_first";
  std::string hash_key;
  absl::Duration resolve_interval = absl::Seconds(30);
  absl::Duration eject_time = absl::Seconds(1);
  absl::Duration max_eject_time = absl::Minutes(2);
  // gRPC's service config, as JSON: retry policies per method, the retry budget and active
  // health checks (rpc/retry_policy.h). Channels over several servers only.
  std::string service_config;
  // How often each server is health-checked when the service config has a healthCheckConfig
  // (rpc/health_checker.h).
  absl::Duration health_check_interval = absl::Seconds(1);
  // TLS (transport/tls): when set, every connection of the channel is TLS, verified as the options
  // say; the server name defaults to the target's host (a Unix-socket target must name one).
  // Blocking calls stay caller-driven: each pooled connection does its own handshake (and resumes
  // the channel's last session), on the calling thread.
  // A handshake failure fails the calls with UNAVAILABLE naming the cause; the connect timeout
  // covers the handshake. Not for udp: targets.
  std::optional<TlsClientOptions> tls;
  // When set, told of every call: for client metrics (metrics::RpcMetrics(Side::kClient)).
  // Not owned; must outlive the channel. See rpc/observed_channel.h.
  CallObserver* observer = nullptr;
};

}  // namespace framerpc

#endif  // FRAMERPC_RPC_CHANNEL_OPTIONS_H_

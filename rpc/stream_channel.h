// Internal to //rpc:channel: the Channel for framed targets ("host:port", "[v6]:port",
// "unix:/path"): one multiplexed connection on an I/O thread (its own, or a ChannelLoop shared
// with other channels), and the caller-driven pool of rpc/sync_calls.h for blocking calls. The
// same Channel serves in-process targets (rpc/in_process_channel.h), its connections made by an
// InProcessConnector instead of connect(2).
#ifndef FRAMERPC_RPC_STREAM_CHANNEL_H_
#define FRAMERPC_RPC_STREAM_CHANNEL_H_

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "rpc/channel.h"
#include "rpc/client_stream.h"
#include "rpc/in_process_connector.h"
#include "transport/event_loop_thread.h"
#include "transport/socket_address.h"
#include "transport/tls/tls_context.h"

namespace framerpc {

// One I/O thread that several stream channels share (a balanced channel's endpoints), so that a
// call started from one channel's completion callback is sent by the same thread at once, with no
// hand-off to another thread.
//
// Lifetime: Stop() ends the calls of every channel on the loop, as their destructors would, then
// quits and joins the thread; a channel destroyed after Stop() only frees its memory. The owner
// must call Stop() before destroying the channels (tasks a channel left queued run in Stop(), while
// it is alive) and must not destroy a channel while Stop() runs. Thread-safe otherwise.
class ChannelLoop {
 public:
  // A channel on the loop.
  class Member {
   public:
    virtual ~Member() = default;
    // Ends the member's calls and closes its connections, on the loop. Idempotent.
    virtual void ShutDown() = 0;
  };

  explicit ChannelLoop(absl::Duration busy_poll) : thread_(busy_poll) {}
  ChannelLoop(const ChannelLoop&) = delete;
  ChannelLoop& operator=(const ChannelLoop&) = delete;

  EventLoop* loop() const { return thread_.loop(); }
  void Join(Member* member);
  // Whether the loop still runs (false once Stop() has begun, which shut `member` down).
  bool Leave(Member* member);
  // Idempotent.
  void Stop();

 private:
  std::mutex mu_;
  std::vector<Member*> members_;  // guarded by mu_
  bool stopped_ = false;          // guarded by mu_
  EventLoopThread thread_;
};

// What a balanced channel gives the channel of each of its endpoints.
struct EndpointHooks {
  // When set, the channel runs on it (see ChannelLoop) instead of a thread of its own.
  std::shared_ptr<ChannelLoop> shared_loop;
  // When set, called on the channel's loop when its multiplexed connection receives a GOAWAY.
  std::function<void()> on_goaway;
};

// `options` have been validated by Channel::Create.
// `tls`: made from options.tls when set (null otherwise).
// `in_process`: when set, connections come from it (in-memory pipes to a server of this process)
// rather than from connecting to `address`; `tls` is then null and options.max_sync_connections 0.
std::unique_ptr<Channel> CreateStreamChannel(
    std::string target, const SocketAddress& address, const ChannelOptions& options,
    std::shared_ptr<TlsContext> tls = nullptr,
    std::shared_ptr<InProcessConnector> in_process = nullptr, EndpointHooks hooks = {});

// channel->StartStream(...), with `end_hook` run when the stream ends, before its holder can see
// any of the end (rpc/client_stream.h); the hook is not run for a stream that fails before it
// starts (bad arguments, no admission). Null, and nothing started, when `channel` is not a stream
// channel (a udp: one). For BalancedChannel's transparent retry of streams.
std::unique_ptr<ClientStreamBase> StartObservedStream(Channel* channel, absl::string_view method,
                                                     MethodKind kind, ClientContext* context,
                                                     google::protobuf::MessageLite* response,
                                                     StreamEndHook end_hook);

// The channel of one address (a framed, unix: or udp: target; not a balanced one), as
// Channel::Create makes it, observer included. A udp: channel ignores `hooks`.
absl::StatusOr<std::unique_ptr<Channel>> CreateAddressChannel(absl::string_view address,
                                                              ChannelOptions options,
                                                              EndpointHooks hooks = {});

// The checks Channel::Create makes of options every channel shares (busy_poll, bounds,
// keepalive): INVALID_ARGUMENT naming the option.
absl::Status ValidateChannelOptions(const ChannelOptions& options);

}  // namespace framerpc

#endif  // FRAMERPC_RPC_STREAM_CHANNEL_H_

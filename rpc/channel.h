// Client side of framerpc: one multiplexed connection to one server address.
#ifndef FRAMERPC_RPC_CHANNEL_H_
#define FRAMERPC_RPC_CHANNEL_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/message_lite.h"
#include "rpc/channel_options.h"
#include "rpc/context.h"
#include "rpc/stream.h"
#include "transport/frame_codec.h"

namespace framerpc {

// Completion of an asynchronous call. Runs on the channel's I/O thread: it must not block.
using DoneCallback = std::function<void(absl::Status)>;

// A Channel multiplexes concurrent asynchronous calls from any threads over one connection;
// replies may come in any order. Blocking calls take a faster, caller-driven path
// (ChannelOptions::max_sync_connections) with the same semantics. It connects lazily, and after
// the connection drops (e.g. a server restart) the next call reconnects. Calls in flight on a
// dropped connection fail with UNAVAILABLE; they are never silently retried, because they may
// have run. What it holds for unfinished calls is bounded (ChannelOptions::max_outstanding_calls,
// max_queued_request_bytes, output_high_water_bytes): past a bound a new call fails with
// RESOURCE_EXHAUSTED, or waits for room under OverLimitPolicy::kWait. It answers the server's
// keepalive PINGs on every connection it has (docs/protocol.md §9.1).
//
// Thread-safe. Destroying the channel completes every call still in flight with CANCELLED
// before the destructor returns; their contexts no longer refer to it (TryCancel() is then a
// no-op). A stream object may outlive its channel only to be destroyed or to have its blocking
// methods called (which report the end); its callback forms need the channel.
class Channel : public CallCanceller {
 public:
  // `address`: "host:port", "[v6addr]:port" or "unix:/path" for the framed protocol over a
  // stream socket; "udp:host:port" or "udp:[v6addr]:port" for unary calls over UDP, one datagram
  // each way (see rpc/udp_channel.h). Does not connect yet.
  static absl::StatusOr<std::unique_ptr<Channel>> Create(absl::string_view address,
                                                          ChannelOptions options = {});
  virtual ~Channel() = default;

  // Starts a unary call. `context` and `response` must stay valid until `done` has run.
  // `done` runs exactly once, on the channel's I/O thread. Does not block, except under
  // OverLimitPolicy::kWait while the channel is at a bound (never on the I/O thread).
  virtual void StartCall(absl::string_view method, ClientContext* context,
                         const google::protobuf::MessageLite& request,
                         google::protobuf::MessageLite* response, DoneCallback done) = 0;

  // Blocking form of StartCall. Must not be called from a completion callback.
  virtual absl::Status Call(absl::string_view method, ClientContext* context,
                            const google::protobuf::MessageLite& request,
                            google::protobuf::MessageLite* response);

  // Starts a streaming call of `kind` (not kUnary), and returns its stream (see rpc/stream.h).
  // Blocks only as StartCall does, at a bound under kWait; a stream refused at a bound has
  // already finished with that status. `response`: where Finish() puts the reply of a client-streaming call; null for
  // the other kinds. `context` and `response` must outlive the returned stream. Channels that
  // cannot stream (udp:) return a stream whose Finish() is UNIMPLEMENTED.
  virtual std::unique_ptr<ClientStreamBase> StartStream(absl::string_view method, MethodKind kind,
                                                        ClientContext* context,
                                                        google::protobuf::MessageLite* response);

  // Used by ClientContext::TryCancel(). Thread-safe.
  void CancelCall(uint64_t call_id) override = 0;

  // Addresses the channel was created for, as given.
  virtual const std::string& target() const = 0;
};

// Whether a call's UNAVAILABLE status proves that it reached no handler: nothing of it was written
// (its connection could not be made), or the server's GOAWAY refused it. Such a call may be sent
// to another server whatever the method, as gRPC's transparent retry does. A BalancedChannel does
// so.
bool CallNeverSent(const absl::Status& status);
// `status`, marked so (for channel implementations).
absl::Status MarkNeverSent(absl::Status status);

}  // namespace framerpc

#endif  // FRAMERPC_RPC_CHANNEL_H_

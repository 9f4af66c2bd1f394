// Internal to //rpc:channel: a BalancedChannel's client stream, sent again to another endpoint
// when an attempt provably reached no handler (gRPC's transparent retry, for streams).
//
// An attempt is one stream on one endpoint. While the stream is uncommitted it keeps a copy of
// every message the caller has written (and whether it half-closed), up to
// kStreamRetryBufferBytes. When an uncommitted attempt ends with a status CallNeverSent() holds
// for (its connection could not be made, or the server's GOAWAY refused it), the stream asks its
// Opener for an attempt on another endpoint, replays the copies (and the half-close) into it,
// and goes on there: the caller sees one stream. It is not retried once it is committed, which
// happens when
//   - a server message has been given to the caller, or one was waiting unread when the attempt
//     ended (a server that sent a message has the call: it is not retried even if the server
//     then claims otherwise);
//   - the copies would pass kStreamRetryBufferBytes (the copies are dropped at once);
//   - the attempt cannot be observed (an endpoint channel that is not a stream channel).
// Nor when the caller has cancelled, the deadline has passed, the stream has been dropped, or
// the Opener has no endpoint left (each endpoint is tried at most once).
//
// The retry decision and the switch to the next attempt happen in the ending attempt's end hook
// (rpc/client_stream.h), before the caller can see anything of that end: a Read, Write,
// WritesDone or Finish that fails on an attempt which has been replaced is made again on the
// replacement (a write that was copied counts as written: the replay sent it), so the caller
// sees neither the failure nor a message twice.
//
// Threading: the contract of rpc/stream.h (one reader and one writer at a time, any threads;
// callbacks on the I/O thread; the ClientContext outlives the stream object). Once committed,
// each operation is one atomic load and a call to the attempt, which no longer changes.
// Lock order: RetryingStream's mutex, then the BalancedChannel's and its endpoints' (the
// Opener's pick), then the endpoint channel's and the new attempt's (starting it, the replay).
// Nothing calls back into a RetryingStream while holding any of those: the endpoint channel
// runs hooks and callbacks without its locks held.
//
// Ownership: the stream object owns the current attempt; a replaced attempt (already ended)
// lives while a callback or operation still refers to it. Hooks and callbacks hold the shared
// state, never the stream object, so they may outlive it.
#ifndef FRAMERPC_RPC_RETRYING_STREAM_H_
#define FRAMERPC_RPC_RETRYING_STREAM_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "rpc/call_stream.h"
#include "rpc/client_stream.h"
#include "rpc/context.h"
#include "rpc/stream.h"

namespace framerpc {

// The bytes of caller messages an uncommitted stream keeps for a transparent retry, as gRPC's
// per-call retry buffer (64 KiB). Each message counts its serialized size, its attachment, and
// kStreamRetryMessageOverhead, so that many tiny messages are bounded too.
inline constexpr size_t kStreamRetryBufferBytes = size_t{64} << 10;
inline constexpr size_t kStreamRetryMessageOverhead = 64;
// A replay never waits for flow-control credit: the buffer fits in half the initial window.
static_assert(2 * kStreamRetryBufferBytes < kDefaultStreamWindow, "replay must not block");

// One attempt of a stream, on one endpoint.
struct StreamAttempt {
  std::unique_ptr<ClientStreamBase> stream;
  // Tells the balancer how the attempt ended. Run once: when it is replaced, when the caller's
  // Finish or FinishAsync returns its status, or when the stream object is dropped.
  std::function<void(const absl::Status&)> report;
  // Whether the stream runs the end hook it was opened with (only then can it be retried).
  bool observed = false;
};

class RetryingStream final : public ClientStreamBase {
 public:
  // Opens an attempt whose stream runs `hook` when it ends. `failed` is null for the first
  // attempt; for a retry it is the status the replaced attempt ended with, and the Opener answers
  // an error (which the stream ignores) when there is no other endpoint for it. Called once from
  // Start(), then only from end hooks on the I/O thread, never twice at once.
  using Opener =
      std::function<absl::StatusOr<StreamAttempt>(const absl::Status* failed, StreamEndHook hook)>;
  // Runs a task on the I/O thread (a refused WriteAsync's callback).
  using PostFn = std::function<void(std::function<void()>)>;

  // The stream, on the first attempt `open` opens; a failed stream if it cannot open one.
  static std::unique_ptr<ClientStreamBase> Start(ClientContext* context, Opener open,
                                                 PostFn post);
  ~RetryingStream() override;
  RetryingStream(const RetryingStream&) = delete;
  RetryingStream& operator=(const RetryingStream&) = delete;

  bool Write(const google::protobuf::MessageLite& message, absl::string_view attachment) override;
  void WriteAsync(const google::protobuf::MessageLite& message, std::string attachment,
                  std::function<void(bool ok)> done) override;
  bool WritesDone() override;
  bool Read(google::protobuf::MessageLite* message, std::string* attachment) override;
  void ReadAsync(google::protobuf::MessageLite* message, std::string* attachment,
                 std::function<void(bool ok)> done) override;
  absl::Status Finish() override;
  void FinishAsync(std::function<void(absl::Status)> done) override;

  class Core;
  struct Attempt;

 private:
  explicit RetryingStream(std::shared_ptr<Core> core) : core_(std::move(core)) {}

  const std::shared_ptr<Core> core_;
};

}  // namespace framerpc

#endif  // FRAMERPC_RPC_RETRYING_STREAM_H_

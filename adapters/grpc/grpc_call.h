// GrpcCall: one incoming gRPC call, from being requested to being finished, for any method kind.
// Internal to GrpcAdapter.
//
// Every operation on the gRPC call is asynchronous; its completion comes back through the
// adapter's completion queue to OnEvent(). A unary call reads its one request there and is run
// through the Dispatcher (inline or on its worker pool). A streaming call's handler runs on a
// thread of its own with this object as its ServerStreamBase: Read() and Write() start one gRPC
// operation and block that thread until the operation completes.
//
// Cancellation: the call asks gRPC to report its end (AsyncNotifyWhenDone). If it ended without
// our status being sent (the client cancelled or went away, or the deadline passed, which the gRPC
// server enforces), the handler's ServerContext is cancelled, gRPC fails the outstanding Read and
// Write, and later ones return false at once. A handler's Write that the client's flow control
// holds for the stall timeout cancels the call itself (the client reads nothing: a slow reader
// must not hold the handler), with the same effect; the client sees CANCELLED, since gRPC sends
// no status while a write is outstanding.
//
// Lifetime: heap-allocated by the adapter; deletes itself once both its Finish and its end report
// have completed (the end report comes only for calls that arrived). Then `on_deleted` runs.
// Thread safety: OnEvent() is called by any completion-queue thread, one event at a time per
// operation; the handler thread runs Read/Write. Shared state is guarded by mu_.
#ifndef FRAMERPC_ADAPTERS_GRPC_GRPC_CALL_H_
#define FRAMERPC_ADAPTERS_GRPC_GRPC_CALL_H_

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "adapters/grpc/grpc_peer.h"
#include "rpc/dispatcher.h"
#include "rpc/worker_pool.h"

namespace framerpc::grpc_adapter {

// What calls need from their adapter. Outlives every call.
struct CallEnvironment {
  Dispatcher* dispatcher;
  grpc::AsyncGenericService* service;
  grpc::ServerCompletionQueue* cq;
  ElasticThreadPool* stream_threads;
  std::function<void()> request_next;  // arms one more call
  std::function<void()> on_deleted;
  const AdoptedPeers* adopted_peers;   // the peers of connections from AdoptConnection
  // A handler's Write that gRPC's flow control holds this long cancels the call
  // (GrpcAdapterOptions::stream_stall_timeout).
  absl::Duration stream_stall_timeout = absl::InfiniteDuration();
};

class GrpcCall final : private ServerStreamBase {
 public:
  enum class Op { kRequested, kRead, kWrite, kFinish, kDone };
  // A completion-queue tag. Never changed after construction, so any thread may read it.
  struct Tag {
    GrpcCall* call;
    Op op;
  };

  explicit GrpcCall(const CallEnvironment* env) : env_(env) {}
  GrpcCall(const GrpcCall&) = delete;
  GrpcCall& operator=(const GrpcCall&) = delete;

  // Asks gRPC for the next incoming call.
  void Arm();
  // A completion for `op`.
  void OnEvent(Op op, bool ok);

 private:
  ~GrpcCall() override = default;

  // The call has arrived.
  void Start();
  // Unary: the request message has been read (or not).
  void OnUnaryRequest(bool ok);
  void ReplyUnary(const std::string& response_frame);
  // Streaming: the handler's thread.
  void RunStream(const MethodHandler* handler);

  // ServerStreamBase, for the handler's thread.
  bool Read(google::protobuf::MessageLite* message, std::string* attachment) override;
  bool Write(const google::protobuf::MessageLite& message, absl::string_view attachment) override;
  // Blocks until the operation `op` (kRead or kWrite) started by this thread completes.
  bool AwaitCompletion(Op op);
  // As AwaitCompletion(kWrite), but a write still not done after the stall timeout cancels the
  // call (gRPC then fails the write) and sets stream_error_ to say why.
  bool AwaitWrite();

  // Ends the call with `status`, and `response_` as the last message when `with_message`. The
  // last thing done with `this` by the calling thread.
  void Finish(const absl::Status& status, bool with_message = false);
  // The end report or the Finish completion; deletes the call after the second of them.
  void OnEnded(Op op);

  const CallEnvironment* const env_;
  grpc::GenericServerContext context_;
  grpc::GenericServerAsyncReaderWriter stream_{&context_};
  grpc::ByteBuffer request_;   // the message being read
  grpc::ByteBuffer response_;  // the message being written
  // Streaming only, touched by the handler's thread alone: overrides the handler's status.
  absl::Status stream_error_;
  // Streaming only: the method's route, set before the handler's thread starts, and the call,
  // for the handler's thread alone (set by RunStream).
  const Dispatcher::Route* route_ = nullptr;
  ServerCall* stream_call_ = nullptr;
  Tag requested_{this, Op::kRequested};
  Tag read_{this, Op::kRead};
  Tag write_{this, Op::kWrite};
  Tag finished_{this, Op::kFinish};
  Tag done_{this, Op::kDone};

  std::mutex mu_;
  std::condition_variable cv_;
  std::shared_ptr<ServerCall> call_;  // guarded by mu_ until the call has started
  bool streaming_ = false;            // guarded by mu_
  bool read_done_ = false;            // guarded by mu_: the pending read completed
  bool read_ok_ = false;              // guarded by mu_
  bool write_done_ = false;           // guarded by mu_
  bool write_ok_ = false;             // guarded by mu_
  bool cancelled_ = false;            // guarded by mu_: ended without our status
  bool end_reported_ = false;         // guarded by mu_
  bool finish_completed_ = false;     // guarded by mu_
};

}  // namespace framerpc::grpc_adapter

#endif  // FRAMERPC_ADAPTERS_GRPC_GRPC_CALL_H_

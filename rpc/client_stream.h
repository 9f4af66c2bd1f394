// Internal to //rpc:channel: the client end of a streaming call, as the stream channel creates it
// and the caller holds it (see rpc/stream.h for the contract).
#ifndef FRAMERPC_RPC_CLIENT_STREAM_H_
#define FRAMERPC_RPC_CLIENT_STREAM_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>

#include "absl/status/status.h"
#include "rpc/call_stream.h"
#include "rpc/context.h"
#include "rpc/stream.h"
#include "transport/frame_codec.h"

namespace framerpc {

// What a client stream needs from the channel that runs it. Thread-safe.
class ClientStreamOwner {
 public:
  // Ends call `id` with `status` and tells the server (CANCEL).
  virtual void FailStream(uint64_t id, absl::Status status) = 0;
  // Posts `task` to the channel's I/O thread.
  virtual void Post(std::function<void()> task) = 0;

 protected:
  ~ClientStreamOwner() = default;
};

// Told how a stream ended before its holder can see any of the end (BalancedChannel's
// transparent retry, rpc/retrying_stream.h): on the I/O thread, once, with the final status and
// whether server messages were still queued unread. The call's context has been unbound and is
// no longer touched by this call, so the hook may start another call with it.
using StreamEndHook = std::function<void(const absl::Status& status, bool unread_messages)>;

// Shared by the channel (which completes it) and the caller's stream object.
class ClientStreamState {
 public:
  ClientStreamState(uint64_t id, MethodKind kind, ClientContext* context,
                    google::protobuf::MessageLite* response, std::shared_ptr<CallStream> flow,
                    StreamEndHook end_hook = nullptr)
      : id_(id),
        kind_(kind),
        flow_(std::move(flow)),
        context_(context),
        response_(response),
        end_hook_(std::move(end_hook)) {}

  uint64_t id() const { return id_; }
  MethodKind kind() const { return kind_; }
  CallStream* flow() const { return flow_.get(); }
  // For a task that must keep the flow alive after this state may be gone.
  const std::shared_ptr<CallStream>& shared_flow() const { return flow_; }

  // The caller's deadline and whether it asked to cancel, read before the call starts; a stream
  // whose object is gone already reads as cancelled.
  absl::Time deadline() const;
  bool cancel_requested() const;
  // A RESPONSE frame's end of the call: its status, and for an OK end the response message
  // (client-streaming) and attachment written into the caller's objects, unless the stream
  // object is gone (then only the status).
  absl::Status FinishFromResponse(const Frame& frame);
  // The stream object is being destroyed before the call completed: from now on nothing of the
  // caller's (context, response) is touched, though the call completes later on the I/O thread.
  void Detach();

  // I/O thread, once: the call's final status. Runs the end hook if there is one, then ends the
  // message flow and runs the FinishAsync callback if one is waiting.
  void Complete(absl::Status status);
  bool completed() const;
  absl::Status Wait();
  // `done` runs on the I/O thread once the call has completed (through `post` if it already has).
  void OnComplete(std::function<void(absl::Status)> done,
                  const std::function<void(std::function<void()>)>& post);

 private:
  const uint64_t id_;
  const MethodKind kind_;
  const std::shared_ptr<CallStream> flow_;

  mutable std::mutex mu_;
  ClientContext* context_;                   // guarded by mu_; null once detached
  google::protobuf::MessageLite* response_;  // guarded by mu_; null once detached
  std::condition_variable cv_;
  bool completed_ = false;                        // guarded by mu_
  absl::Status status_;                           // guarded by mu_
  std::function<void(absl::Status)> on_complete_;  // guarded by mu_
  StreamEndHook end_hook_;                         // guarded by mu_; taken by Complete()
};

class ClientStreamImpl final : public ClientStreamBase {
 public:
  ClientStreamImpl(std::shared_ptr<ClientStreamState> state, ClientStreamOwner* owner)
      : state_(std::move(state)), owner_(owner) {}
  ~ClientStreamImpl() override;

  bool Write(const google::protobuf::MessageLite& message, absl::string_view attachment) override;
  void WriteAsync(const google::protobuf::MessageLite& message, std::string attachment,
                  std::function<void(bool ok)> done) override;
  bool WritesDone() override;
  bool Read(google::protobuf::MessageLite* message, std::string* attachment) override;
  void ReadAsync(google::protobuf::MessageLite* message, std::string* attachment,
                 std::function<void(bool ok)> done) override;
  absl::Status Finish() override;
  void FinishAsync(std::function<void(absl::Status)> done) override;

 private:
  std::shared_ptr<ClientStreamState> state_;
  ClientStreamOwner* owner_;
};

// A stream that has already failed with `status` (for channels that cannot stream).
std::unique_ptr<ClientStreamBase> FailedClientStream(absl::Status status);

}  // namespace framerpc

#endif  // FRAMERPC_RPC_CLIENT_STREAM_H_

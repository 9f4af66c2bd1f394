// Per-call state seen by handlers (ServerContext) and callers (ClientContext).
#ifndef FRAMERPC_RPC_CONTEXT_H_
#define FRAMERPC_RPC_CONTEXT_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/cancellation.h"
#include "rpc/peer_identity.h"
#include "rpc/trace_context.h"

namespace framerpc {

// Implemented by the client channel; lets a ClientContext cancel its call without depending on
// the channel's code.
class CallCanceller {
 public:
  virtual void CancelCall(uint64_t call_id) = 0;

 protected:
  ~CallCanceller() = default;
};

// Call metadata: ordered key/value pairs, like gRPC metadata. Keys are not unique.
using Metadata = std::vector<std::pair<std::string, std::string>>;

template <typename ServiceT, typename Req, typename Resp>
class ServerStreamingMethodHandler;

// Handed to a service method for the duration of one call. Owned by the RPC layer; valid until
// the handler returns. IsCancelled() may be polled from any thread; everything else belongs to
// the thread running the handler.
class ServerContext {
 public:
  ServerContext() = default;
  ServerContext(const ServerContext&) = delete;
  ServerContext& operator=(const ServerContext&) = delete;

  // absl::InfiniteFuture() when the caller set no deadline.
  absl::Time deadline() const { return deadline_; }
  // True once the client cancelled the call, the deadline passed, the connection dropped or the
  // reply was sent.
  bool IsCancelled() const { return cancelled_.IsCancelled(); }
  // Blocks until IsCancelled() or `deadline`; returns IsCancelled(). For handlers that wait on
  // something else and must stop when the caller gives up.
  bool WaitForCancellation(absl::Time deadline) const {
    return cancelled_.WaitWithDeadline(deadline);
  }
  // Runs `fn` once when the call is cancelled (as IsCancelled() becomes true), on the thread that
  // ends it: an I/O thread or a timer's on the framed transport, a gRPC thread or the handler's
  // own thread inside a failing Write() on the gRPC adapter. So `fn` must be quick, must not block
  // and must not take a lock the handler holds across Write() (kill a process, shut a socket,
  // notify a condition variable). Runs it at once, on this thread, if the call is
  // already cancelled. The returned registration unregisters `fn` when destroyed, and once its
  // destructor returns `fn` is not running and never will; keep it for as long as whatever `fn`
  // touches lives, and no longer than the handler runs.
  CancellationCallback OnCancel(std::function<void()> fn) const {
    return cancelled_.OnCancel(std::move(fn));
  }
  // The call's cancellation as a signal, for code that takes one (IsCancelled, OnCancel and
  // WaitWithDeadline, as above). Valid for the call.
  const CancellationSignal& cancellation() const { return cancelled_; }

  const Metadata& client_metadata() const { return client_metadata_; }
  // First value for `key`, or nullptr.
  const std::string* FindClientMetadata(absl::string_view key) const;

  // Whether this call's transport carries raw attachments (the framed transport does; gRPC does
  // not). A service that serves both can put bulk data in an attachment when true and in a
  // message field otherwise.
  bool attachments_supported() const { return attachments_supported_; }

  // Raw bytes that travelled beside the request message, uncopied through protobuf.
  absl::string_view request_attachment() const { return request_attachment_; }
  // Moves the request attachment out; request_attachment() is empty afterwards. No copy is made
  // when the context holds the attachment in a string of its own, as the framed transport gives
  // it whenever the request's message part is empty or its attachment was read apart (large
  // ones); otherwise the bytes are copied. For a handler that sends them on (an echo, a proxy).
  std::string TakeRequestAttachment();
  // Raw bytes to send beside the response message.
  std::string* mutable_response_attachment() { return &response_attachment_; }

  const std::string& peer() const { return peer_; }
  // What the transport established about the peer (locality; Unix-socket credentials).
  const PeerIdentity& peer_identity() const { return peer_identity_; }
  const std::string& method() const { return *method_; }

  // The call's trace (W3C Trace Context, rpc/trace_context.h, docs/tracing.md): the trace id of
  // the caller's valid `traceparent` metadata, or of a new trace; this call's own span id; and
  // the caller's span id (empty when the trace began here). Lowercase hex. A call a handler makes
  // with ClientContext::FromServerContext(*this) continues the trace.
  absl::string_view trace_id() const { return trace_.trace_id(); }
  absl::string_view span_id() const { return trace_.span_id(); }
  absl::string_view parent_span_id() const { return trace_.parent_span_id(); }
  const TraceContext& trace() const { return trace_; }

 private:
  friend class ServerCallAccess;
  friend class ClientContext;  // FromServerContext: the trace, the deadline and the owner
  template <typename ServiceT, typename Req, typename Resp>
  friend class ServerStreamingMethodHandler;

  // A server-streaming call's request arrives as a stream message: its attachment is kept here.
  void set_owned_request_attachment(std::string attachment) {
    owned_request_attachment_ = std::move(attachment);
    request_attachment_ = owned_request_attachment_;
  }

  absl::Time deadline_ = absl::InfiniteFuture();
  bool attachments_supported_ = true;
  CancellationSignal cancelled_;
  Metadata client_metadata_;
  absl::string_view request_attachment_;
  std::string owned_request_attachment_;
  std::string response_attachment_;
  std::string peer_;
  PeerIdentity peer_identity_;
  std::string owned_method_;
  // The method's name: the service's own string for a served method (not copied per call),
  // else owned_method_.
  const std::string* method_ = &owned_method_;
  TraceContext trace_;
  // What owns this context (the server call), when the transport made it so: a
  // FromServerContext context keeps it alive, and with it the cancellation signal it listens to.
  std::weak_ptr<const void> owner_;
};

// Owned by the caller. Must outlive the call: for an asynchronous call, until its completion
// callback has run. TryCancel() is safe from any thread; the setters must be used before the call
// starts, and the response accessors after it completes. One context serves one call.
class ClientContext {
 public:
  ClientContext() = default;
  ClientContext(const ClientContext&) = delete;
  ClientContext& operator=(const ClientContext&) = delete;

  // A context for a call that a handler makes on behalf of the call it serves (docs/tracing.md):
  //  - trace: `traceparent` metadata with the server call's trace id and flags and a new span id
  //    (span_id()) whose parent is the server call's span;
  //  - deadline: the server call's (set_deadline may still change it);
  //  - cancellation: when the server call is cancelled (its client cancels, its deadline passes,
  //    its connection drops, or it is answered) this context's TryCancel() runs; at once if it
  //    is cancelled already, so that the call fails with CANCELLED before it starts.
  // The context keeps the server call's state alive for as long as it lives (on the framed, UDP
  // and gRPC transports), so it may outlive the handler, e.g. for an asynchronous call; its
  // destruction unregisters it from the server call.
  //   ClientContext child(*context);   or   auto child = ClientContext::FromServerContext(*context);
  explicit ClientContext(const ServerContext& server);
  // The same, on the heap (as gRPC's ClientContext::FromServerContext).
  static std::unique_ptr<ClientContext> FromServerContext(const ServerContext& server) {
    return std::make_unique<ClientContext>(server);
  }

  void set_deadline(absl::Time deadline) { deadline_ = deadline; }
  void set_timeout(absl::Duration timeout) { deadline_ = absl::Now() + timeout; }
  absl::Time deadline() const { return deadline_; }

  void AddMetadata(std::string key, std::string value) {
    metadata_.emplace_back(std::move(key), std::move(value));
  }
  const Metadata& metadata() const { return metadata_; }

  // Raw request bytes sent beside the request message, without a protobuf copy.
  void set_request_attachment(std::string bytes) { request_attachment_ = std::move(bytes); }
  const std::string& request_attachment() const { return request_attachment_; }
  const std::string& response_attachment() const { return response_attachment_; }

  // Streaming calls: how many bytes of messages the server may send ahead of this client's reads
  // (the receive window, docs/protocol.md §11.2). 0, the default, is 1 MiB. A larger window lets
  // more large messages be in flight on a fast link, at the cost of that much client memory per
  // call; the server refuses a window above its max_stream_window_bytes (16 MiB by default) with
  // RESOURCE_EXHAUSTED, and the client refuses one above 2^31-1 with INVALID_ARGUMENT.
  void set_stream_receive_window(int64_t bytes) { stream_receive_window_ = bytes; }
  int64_t stream_receive_window() const { return stream_receive_window_; }

  // Asks for the call to end with CANCELLED. Thread-safe; a no-op once the call has completed
  // (the context then no longer refers to the channel, which may be gone). The server is told, so
  // that it can stop working on the call.
  void TryCancel();
  bool cancel_requested() const { return cancel_requested_.load(std::memory_order_acquire); }

  // The trace this call continues (FromServerContext); empty strings otherwise, and the server
  // then starts a trace of its own.
  absl::string_view trace_id() const { return trace_.trace_id(); }
  absl::string_view span_id() const { return trace_.span_id(); }
  absl::string_view parent_span_id() const { return trace_.parent_span_id(); }

 private:
  friend class ClientCallAccess;

  absl::Time deadline_ = absl::InfiniteFuture();
  Metadata metadata_;
  std::string request_attachment_;
  int64_t stream_receive_window_ = 0;
  std::string response_attachment_;
  std::atomic<bool> cancel_requested_{false};
  // Held by TryCancel() while it calls the canceller, so that the channel, which unbinds the
  // context when the call completes, knows no TryCancel() is still inside it afterwards.
  std::mutex cancel_mu_;
  // Set by the channel when the call starts, cleared when it completes. Guarded by cancel_mu_.
  CallCanceller* canceller_ = nullptr;
  uint64_t call_id_ = 0;  // guarded by cancel_mu_
  TraceContext trace_;
  // FromServerContext: the server call, kept alive so that its cancellation signal outlives the
  // registration below, which is declared last so that it is destroyed first, before anything
  // TryCancel() touches.
  std::shared_ptr<const void> server_call_;
  CancellationCallback on_server_cancel_;
};

}  // namespace framerpc

#endif  // FRAMERPC_RPC_CONTEXT_H_

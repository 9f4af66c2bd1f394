// Internal to the RPC layer: write access to the private fields of the call contexts.
#ifndef FRAMERPC_RPC_CALL_ACCESS_H_
#define FRAMERPC_RPC_CALL_ACCESS_H_

#include <memory>
#include <mutex>
#include <string>

#include "rpc/context.h"

namespace framerpc {

class ServerCallAccess {
 public:
  static void set_deadline(ServerContext* c, absl::Time d) { c->deadline_ = d; }
  static void set_attachments_supported(ServerContext* c, bool supported) {
    c->attachments_supported_ = supported;
  }
  static void Cancel(ServerContext* c) { c->cancelled_.Cancel(); }
  static Metadata* mutable_client_metadata(ServerContext* c) { return &c->client_metadata_; }
  static void set_owned_request_attachment(ServerContext* c, std::string a) {
    c->set_owned_request_attachment(std::move(a));
  }
  static void set_request_attachment(ServerContext* c, absl::string_view a) {
    c->request_attachment_ = a;
  }
  static std::string* mutable_peer(ServerContext* c) { return &c->peer_; }
  static void set_peer_identity(ServerContext* c, const PeerIdentity& identity) {
    c->peer_identity_ = identity;
  }
  static std::string* mutable_method(ServerContext* c) {
    c->method_ = &c->owned_method_;
    return &c->owned_method_;
  }
  // `name` must outlive the context (a served method's name, which its Service owns).
  static void set_method_name(ServerContext* c, const std::string* name) { c->method_ = name; }
  static void set_trace(ServerContext* c, const TraceContext& trace) { c->trace_ = trace; }
  // `owner` holds the context; a FromServerContext context keeps it alive.
  static void set_owner(ServerContext* c, std::weak_ptr<const void> owner) {
    c->owner_ = std::move(owner);
  }
};

class ClientCallAccess {
 public:
  // From the start of a call: TryCancel() cancels call `call_id` through `canceller`.
  static void Bind(ClientContext* c, CallCanceller* canceller, uint64_t call_id) {
    std::lock_guard<std::mutex> lock(c->cancel_mu_);
    c->call_id_ = call_id;
    c->canceller_ = canceller;
  }
  // When the call completes, before its completion is reported (while the context is certainly
  // alive): TryCancel() no longer reaches the channel. Waits for a TryCancel() in progress, so
  // the caller must not hold a lock that CallCanceller::CancelCall takes.
  static void Unbind(ClientContext* c) {
    std::lock_guard<std::mutex> lock(c->cancel_mu_);
    c->canceller_ = nullptr;
  }
  static std::string* mutable_response_attachment(ClientContext* c) {
    return &c->response_attachment_;
  }
};

}  // namespace framerpc

#endif  // FRAMERPC_RPC_CALL_ACCESS_H_

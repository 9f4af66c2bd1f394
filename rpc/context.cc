#include "rpc/context.h"

namespace framerpc {

std::string ServerContext::TakeRequestAttachment() {
  std::string taken;
  if (request_attachment_.data() == owned_request_attachment_.data() &&
      request_attachment_.size() == owned_request_attachment_.size()) {
    taken.swap(owned_request_attachment_);
  } else {
    taken.assign(request_attachment_.data(), request_attachment_.size());
  }
  request_attachment_ = absl::string_view();
  return taken;
}

const std::string* ServerContext::FindClientMetadata(absl::string_view key) const {
  for (const auto& [k, v] : client_metadata_) {
    if (k == key) return &v;
  }
  return nullptr;
}

ClientContext::ClientContext(const ServerContext& server)
    : deadline_(server.deadline()),
      trace_(server.trace_.NewChild()),
      server_call_(server.owner_.lock()) {
  metadata_.emplace_back(std::string(TraceContext::kMetadataKey), std::string(trace_.traceparent()));
  on_server_cancel_ = server.OnCancel([this] { TryCancel(); });
}

void ClientContext::TryCancel() {
  if (cancel_requested_.exchange(true, std::memory_order_acq_rel)) return;
  std::lock_guard<std::mutex> lock(cancel_mu_);
  if (canceller_ != nullptr) canceller_->CancelCall(call_id_);
}

}  // namespace framerpc

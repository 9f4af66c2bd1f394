#include "rpc/context.h"

namespace framerpc {

const std::string* ServerContext::FindClientMetadata(absl::string_view key) const {
  for (const auto& [k, v] : client_metadata_) {
    if (k == key) return &v;
  }
  return nullptr;
}

void ClientContext::TryCancel() {
  if (cancel_requested_.exchange(true, std::memory_order_acq_rel)) return;
  std::lock_guard<std::mutex> lock(cancel_mu_);
  if (canceller_ != nullptr) canceller_->CancelCall(call_id_);
}

}  // namespace framerpc

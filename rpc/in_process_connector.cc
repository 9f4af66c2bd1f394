#include "rpc/in_process_connector.h"

namespace framerpc {

absl::StatusOr<MemoryPipeEnd> InProcessConnector::Connect() {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return absl::UnavailableError("in-process server shut down");
  if (!accept_) return absl::UnavailableError("in-process server not started");
  return accept_();
}

void InProcessConnector::Open(Accept accept) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!closed_) accept_ = std::move(accept);
}

void InProcessConnector::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  accept_ = nullptr;
}

const SocketAddress& InProcessPeerAddress() {
  static const SocketAddress* const address =
      new SocketAddress(*SocketAddress::Parse("unix:@framerpc-in-process"));
  return *address;
}

}  // namespace framerpc

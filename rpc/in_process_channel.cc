#include "rpc/in_process_channel.h"

#include "rpc/observed_channel.h"
#include "rpc/stream_channel.h"

namespace framerpc {

absl::StatusOr<std::unique_ptr<Channel>> NewInProcessChannel(
    std::shared_ptr<InProcessConnector> connector, ChannelOptions options) {
  if (connector == nullptr) return absl::InvalidArgumentError("no in-process connector");
  if (absl::Status valid = ValidateChannelOptions(options); !valid.ok()) return valid;
  if (options.tls.has_value()) {
    return absl::InvalidArgumentError("TLS is not available in-process: no byte leaves it");
  }
  if (options.busy_poll != absl::ZeroDuration()) {
    return absl::InvalidArgumentError("busy polling is not available in-process: no socket");
  }
  options.max_sync_connections = 0;  // blocking calls share the one in-memory connection
  CallObserver* const observer = options.observer;
  std::unique_ptr<Channel> channel = CreateStreamChannel(
      kInProcessTarget, InProcessPeerAddress(), options, nullptr, std::move(connector));
  if (observer == nullptr) return channel;
  return std::make_unique<ObservedChannel>(std::move(channel), observer, CallTransport::kFramed);
}

}  // namespace framerpc

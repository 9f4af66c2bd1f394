#include "cli/connect.h"

namespace framerpc::cli {

absl::StatusOr<std::unique_ptr<Channel>> Connect(const CliOptions& options,
                                                 const std::string& address) {
  ChannelOptions channel_options;
  channel_options.tls = options.tls;
  channel_options.load_balancing = options.load_balancing;
  return Channel::Create(address, channel_options);
}

}  // namespace framerpc::cli

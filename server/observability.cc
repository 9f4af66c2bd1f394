#include "server/observability.h"

namespace framerpc::server {

absl::Status ServerObservability::Attach(Server* server, AdminConfig config) {
  connections_ = std::make_unique<metrics::ServerMetrics>(server);
  exposition_.Add(&rpc_);
  exposition_.Add(connections_.get());
  exposition_.Add(&process_);
  if (config.command != nullptr) {
    command_ = std::make_unique<CommandMetrics>(config.command);
    exposition_.Add(command_.get());
  }
  if (config.files != nullptr) {
    files_ = std::make_unique<FileMetrics>(config.files);
    exposition_.Add(files_.get());
  }
  if (config.listen.empty() && !config.on_rpc_port) return absl::OkStatus();

  admin::AdminSources sources;
  sources.exposition = &exposition_;
  sources.rpc = &rpc_;
  sources.server = server;
  sources.ready = std::move(config.ready);
  sources.flags = std::move(config.flags);
  sources.version = std::move(config.version);
  sources.token = config.token;
  pages_ = std::make_unique<admin::AdminPages>(std::move(sources));
  http_ = std::make_unique<admin::AdminHttpServer>(pages_.get());
  if (!config.listen.empty()) {
    if (absl::Status s = http_->Listen(config.listen); !s.ok()) return s;
  }
  if (config.on_rpc_port) {
    Server::ForeignProtocol http1;
    http1.name = "http1";
    http1.match = admin::MatchHttp1;
    admin::AdminHttpServer* http = http_.get();
    http1.handler = [http](ScopedFd fd, const SocketAddress& peer) {
      http->Adopt(std::move(fd), peer);
    };
    if (absl::Status s = server->AddForeignProtocol(std::move(http1)); !s.ok()) return s;
  }
  return absl::OkStatus();
}

std::string ServerObservability::admin_address() const {
  return http_ != nullptr ? http_->listen_address() : "";
}

}  // namespace framerpc::server

// ServerObservability: what framerpc_server exposes about itself. It owns the call metrics (the
// server's CallObserver), the connection, process and service collectors, the operator's pages
// and their HTTP serving (admin/), on a port of their own and/or sniffed on the RPC port.
//
// Order: construct before the server; give observer() to ServerOptions (and any other
// Dispatcher); Attach() before the server's Start(); StopAdmin() after the server's Shutdown() (the
// pages go on answering through the drain, /readyz saying 503) and before the server is
// destroyed; destroy this after the server (its dispatcher calls the observer to the end).
// Thread safety: construction, Attach() and StopAdmin() on one thread; the rest thread-safe.
#ifndef FRAMERPC_SERVER_OBSERVABILITY_H_
#define FRAMERPC_SERVER_OBSERVABILITY_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "admin/admin_http.h"
#include "admin/admin_pages.h"
#include "metrics/exposition.h"
#include "metrics/process_metrics.h"
#include "metrics/rpc_metrics.h"
#include "metrics/server_metrics.h"
#include "rpc/server.h"
#include "server/service_metrics.h"
#include "services/auth/shared_secret.h"
#include "services/command/command_runner.h"
#include "services/file/transfer_tracker.h"

namespace framerpc::server {

struct AdminConfig {
  std::string listen;          // an admin port of its own ("" for none)
  bool on_rpc_port = false;    // also answer GET/HEAD on the RPC listeners (the sniffer)
  const auth::SharedSecret* token = nullptr;  // what non-local peers must present for the pages
  std::function<bool()> ready;                // /readyz
  std::function<std::vector<std::pair<std::string, std::string>>()> flags;
  std::string version;
  const command::CommandRunner* command = nullptr;  // its metrics, when the service is on
  const file::TransferTracker* files = nullptr;     // the file service's, when it is on
};

class ServerObservability {
 public:
  ServerObservability() = default;
  ServerObservability(const ServerObservability&) = delete;
  ServerObservability& operator=(const ServerObservability&) = delete;

  CallObserver* observer() { return &rpc_; }
  const metrics::Exposition& exposition() const { return exposition_; }

  // Before server->Start(). Errors: the admin listener's (address in use, malformed), and the
  // server's AddForeignProtocol.
  absl::Status Attach(Server* server, AdminConfig config);
  // Closes the admin connections and joins the admin threads. Idempotent.
  void StopAdmin() { http_.reset(); }
  // The admin port as bound ("" when there is none).
  std::string admin_address() const;

 private:
  metrics::RpcMetrics rpc_;
  metrics::ProcessMetrics process_;
  std::unique_ptr<metrics::ServerMetrics> connections_;
  std::unique_ptr<CommandMetrics> command_;
  std::unique_ptr<FileMetrics> files_;
  metrics::Exposition exposition_;
  std::unique_ptr<admin::AdminPages> pages_;
  std::unique_ptr<admin::AdminHttpServer> http_;
};

}  // namespace framerpc::server

#endif  // FRAMERPC_SERVER_OBSERVABILITY_H_

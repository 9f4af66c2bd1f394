// AdminPages: the operator's HTTP pages of a framerpc server, as pure request -> response
// handling (the serving is admin_http.h):
//   /metrics      Prometheus text format
//   /healthz      200 while the process answers (liveness), with the readiness in the body
//   /readyz       200 when the health service says SERVING, 503 otherwise (readiness; the drain
//                 at SIGTERM turns it 503 first)
//   /status       per method over the last minute: calls/s, errors, p50, p99, in flight
//   /connections  each framed connection: peer, identity, age, calls in flight, bytes
//   /calls        each call in flight: method, peer, age, deadline
//   /flags, /version, and / (an index)
// Plain text by default; simple HTML when the request's Accept header asks for text/html. A peer
// that is not local (loopback or a Unix socket) gets only /metrics, /healthz and /readyz unless
// it presents the server's token (authorization: Bearer <token>).
//
// Thread safety: Handle() from any thread; it may block briefly (it visits the I/O threads for
// /connections and /calls), so never call it on an I/O thread. Lifetime: the sources must outlive
// the pages.
#ifndef FRAMERPC_ADMIN_ADMIN_PAGES_H_
#define FRAMERPC_ADMIN_ADMIN_PAGES_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "admin/http_request.h"
#include "admin/status_window.h"
#include "metrics/exposition.h"
#include "metrics/rpc_metrics.h"
#include "rpc/peer_identity.h"
#include "rpc/server.h"
#include "services/auth/shared_secret.h"

namespace framerpc::admin {

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;  // besides the standard ones
  std::string body;
};

// "HTTP/1.1 <status> <reason>", the headers (Content-Type, Content-Length, Connection: close)
// and, unless `head_only`, the body.
std::string SerializeResponse(const HttpResponse& response, bool head_only);

// What the pages read. Pointers are not owned and may be null (the page then says so).
struct AdminSources {
  const metrics::Exposition* exposition = nullptr;
  const metrics::RpcMetrics* rpc = nullptr;
  Server* server = nullptr;
  std::function<bool()> ready;         // /readyz; null: always ready
  // /flags: each flag's name and value.
  std::function<std::vector<std::pair<std::string, std::string>>()> flags;
  std::string version;
  const auth::SharedSecret* token = nullptr;  // what remote peers must present
};

class AdminPages {
 public:
  explicit AdminPages(AdminSources sources);
  AdminPages(const AdminPages&) = delete;
  AdminPages& operator=(const AdminPages&) = delete;

  HttpResponse Handle(const HttpRequest& request, const PeerIdentity& peer) const;

 private:
  HttpResponse Status(bool html) const;
  HttpResponse Connections(bool html) const;
  HttpResponse Calls(bool html) const;

  const AdminSources sources_;
  std::unique_ptr<StatusWindow> window_;  // when there are RPC metrics
};

}  // namespace framerpc::admin

#endif  // FRAMERPC_ADMIN_ADMIN_PAGES_H_

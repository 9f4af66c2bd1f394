// AdminHttpServer: serves AdminPages over HTTP/1.x, on a port of its own (Listen) and on the RPC
// port, from connections that the server's sniffer recognised as HTTP/1 (Adopt, registered with
// Server::AddForeignProtocol under the name "http1").
//
// One request per connection (answers carry "Connection: close"), as Prometheus and curl are
// content with. The sockets live on one event loop of the admin server's own; pages are rendered
// on one worker thread of its own, never on an RPC I/O thread, so a slow /connections page never
// delays calls.
//
// Limits, each answered with an HTTP error and a close: a request head larger than kMaxHeadBytes
// (431), not complete within `head_timeout` (408), more than `max_connections` admin connections
// open at once (503). Reads are at most kMaxHeadBytes at a time, so an admin connection holds at
// most ~2 * kMaxHeadBytes of input.
//
// Thread safety: all methods from any thread but the admin loop's. Lifetime: `pages` must outlive
// this object; the destructor closes every admin connection and joins its threads.
#ifndef FRAMERPC_ADMIN_ADMIN_HTTP_H_
#define FRAMERPC_ADMIN_ADMIN_HTTP_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "admin/admin_pages.h"
#include "base/scoped_fd.h"
#include "rpc/server.h"
#include "transport/acceptor.h"
#include "transport/connection.h"
#include "transport/event_loop_thread.h"
#include "rpc/worker_pool.h"

namespace framerpc::admin {

struct AdminHttpOptions {
  absl::Duration head_timeout = absl::Seconds(10);
  size_t max_connections = 64;
};

// Whether `first_bytes` open an HTTP/1 request that the admin pages answer: "GET " or "HEAD ".
Server::ProtocolMatch MatchHttp1(absl::string_view first_bytes);

class AdminHttpServer {
 public:
  AdminHttpServer(const AdminPages* pages, AdminHttpOptions options = {});
  ~AdminHttpServer();
  AdminHttpServer(const AdminHttpServer&) = delete;
  AdminHttpServer& operator=(const AdminHttpServer&) = delete;

  // Listens on `address` ("127.0.0.1:0", "[::]:9090", "unix:/run/admin.sock") and serves at once.
  // At most once.
  absl::Status Listen(const std::string& address);
  // The bound address of Listen's socket (with the real port for port 0); "" before Listen.
  std::string listen_address() const { return listen_address_; }

  // Takes an accepted connection whose bytes are all still unread. Never blocks: may be called on
  // an RPC I/O thread (it is the "http1" foreign protocol's handler).
  void Adopt(ScopedFd fd, const SocketAddress& peer);

  // Admin connections open now.
  size_t connection_count() const { return open_.load(std::memory_order_relaxed); }
  // Requests refused for a limit (408, 431, 503) or malformed (400, 405, 505), since the start.
  uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }

 private:
  struct Pending;
  void Serve(ScopedFd fd, const SocketAddress& peer);  // admin loop
  void OnInput(const ConnectionPtr& connection, Buffer* buffer);
  void Refuse(const ConnectionPtr& connection, int status, absl::string_view why);

  const AdminPages* const pages_;
  const AdminHttpOptions options_;
  std::unique_ptr<EventLoopThread> loop_thread_;
  std::unique_ptr<WorkerPool> renderer_;
  std::unique_ptr<Acceptor> acceptor_;  // admin loop; set by Listen
  std::string listen_address_;
  // Admin loop only: every open connection, and whether its request has been taken.
  absl::flat_hash_map<Connection*, std::unique_ptr<Pending>> pending_;
  std::atomic<size_t> open_{0};
  std::atomic<uint64_t> refused_{0};
};

}  // namespace framerpc::admin

#endif  // FRAMERPC_ADMIN_ADMIN_HTTP_H_

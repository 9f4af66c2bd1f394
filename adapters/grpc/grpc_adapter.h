// GrpcAdapter: serves the services of a framerpc Dispatcher over real gRPC (HTTP/2), every method
// kind, with no per-service gRPC code. gRPC's generic async API hands over each call as
// "/package.Service/Method" plus message bytes; the adapter routes it into the Dispatcher, so a
// service is written once and served on both transports by configuration alone.
//
//   framerpc::Server server;
//   HealthService health;                       // grpc.health.v1, on both transports
//   ReflectionService reflection(server.dispatcher());
//   server.AddService(&echo);
//   server.AddService(&health, ServiceOptions{.run_inline = false});
//   server.AddService(&reflection, ServiceOptions{.run_inline = false});
//   GrpcAdapter grpc(server.dispatcher());      // own port: 127.0.0.1:0 by default
//   FRPC_RETURN_IF_ERROR(grpc.Start());
//   FRPC_RETURN_IF_ERROR(ServeGrpcOnSamePort(&server, &grpc));   // same_port.h; before Start()
//   health.SetServingForAll(*server.dispatcher());
//   ...
//   grpc.Shutdown(absl::Seconds(5));            // then server.Shutdown(): the adapter first
//
// What crosses, and how (docs/grpc_adapter.md has the whole mapping):
// - Unary calls run as on the framed transport: inline on the adapter's completion-queue threads,
//   or on the Dispatcher's worker pool (ServiceOptions::run_inline). Streaming calls run on a
//   thread of their own each; their Read() and Write() block on gRPC's completions, and Write()
//   returns only once gRPC has taken the message (HTTP/2 flow control is the backpressure).
// - Status codes and messages cross unchanged in both directions.
// - The gRPC deadline becomes the ServerContext's deadline. A client that cancels, disconnects or
//   runs out of time cancels the ServerContext (IsCancelled(), WaitForCancellation()) and makes
//   the stream's Read() and Write() return false.
// - Client metadata reaches ServerContext::client_metadata(), without gRPC's own (":", "grpc-").
// - Raw attachments do not: gRPC has none. Requests arrive without one; a handler that sends one
//   fails the call with UNIMPLEMENTED instead of losing the bytes silently.
//
// Threading: Start() and Shutdown() must not run concurrently with each other; listen_port() is
// safe from any thread once Start() has returned; AdoptConnection() from any thread.
// Lifetime: the Dispatcher is not owned and must outlive the adapter; its services must not be
// changed after Start(). The destructor shuts down.
#ifndef FRAMERPC_ADAPTERS_GRPC_GRPC_ADAPTER_H_
#define FRAMERPC_ADAPTERS_GRPC_GRPC_ADAPTER_H_

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "adapters/grpc/grpc_peer.h"
#include "base/scoped_fd.h"
#include "rpc/connection_timeouts.h"
#include "rpc/dispatcher.h"
#include "rpc/worker_pool.h"
#include "transport/socket_address.h"
#include "transport/tls/tls_options.h"

namespace grpc {
class AsyncGenericService;
class Server;
class ServerCompletionQueue;
}  // namespace grpc

namespace framerpc {
namespace grpc_adapter {
struct CallEnvironment;
}  // namespace grpc_adapter

// The gRPC listening target for a framerpc address: the same text, except that an abstract Unix
// socket "unix:@name" becomes gRPC's "unix-abstract:name".
std::string GrpcListenTarget(absl::string_view address);

struct GrpcAdapterOptions {
  // gRPC address syntax ("127.0.0.1:0", "[::1]:50051", "unix:/path"; "unix:@name" is an abstract
  // Unix socket, as for the framed transport), or "" for no port of its
  // own (connections then come only through AdoptConnection). Loopback by default: Debian's gRPC
  // 1.51 lacks later HTTP/2 security fixes and the adapter speaks plaintext (see
  // docs/grpc_adapter.md), so exposing it is a deliberate choice of the caller.
  std::string listen_address = "127.0.0.1:0";
  // Threads polling the completion queue; inline unary handlers run on them.
  int handler_threads = 2;
  // The same stage timeouts as the framed transport's, as gRPC's own settings: the handshake of
  // a connection on the adapter's own port (first_byte), connections with no call (idle; also
  // those handed over on a shared port whose HTTP/2 settings never come), and HTTP/2 keepalive
  // PINGs (keepalive_time, keepalive_timeout). The frame stages have no gRPC counterpart.
  ConnectionTimeoutOptions timeouts;
  // As ServerOptions::stream_stall_timeout: a handler's stream Write that the client's flow
  // control holds this long (the client reads nothing) cancels the call, so that a client that
  // never reads cannot hold the handler's thread, its slot and its memory. The client sees
  // CANCELLED (gRPC sends no status while a write is outstanding). InfiniteDuration: no limit.
  absl::Duration stream_stall_timeout = absl::Minutes(1);
  // TLS on the adapter's own port, through gRPC's own TLS (grpc::SslServerCredentials), with the
  // same files and client-auth policy as the framed listeners (docs/security.md). gRPC 1.51's
  // credentials take no minimum version (min_version is not used: gRPC negotiates TLS 1.2 or
  // 1.3) nor session tickets. A handler sees a verified client certificate's SAN URIs and DNS
  // names in its PeerIdentity, as over the framed transport. Unset: plaintext. Connections
  // adopted from a shared port are not affected (they stay plaintext).
  std::optional<TlsServerOptions> tls;
};

class GrpcAdapter {
 public:
  explicit GrpcAdapter(Dispatcher* dispatcher, GrpcAdapterOptions options = {});
  ~GrpcAdapter();
  GrpcAdapter(const GrpcAdapter&) = delete;
  GrpcAdapter& operator=(const GrpcAdapter&) = delete;

  // Binds (if there is a listen address) and starts serving. Once only.
  absl::Status Start();

  // The bound TCP port (the real one for port 0), as gRPC reports it; 0 before Start() or
  // without a listen address.
  int listen_port() const { return port_; }

  // Serves gRPC on an accepted, non-blocking connection whose bytes are all still unread (the
  // HTTP/2 preface first), from `peer`. Takes the fd; closes it if the adapter is not serving.
  // Thread-safe. Its calls see `peer` as ServerContext::peer() and the identity the socket
  // gives (Unix-socket credentials included), as framed calls do.
  void AdoptConnection(ScopedFd fd, const SocketAddress& peer);

  // Stops accepting calls, lets running calls finish until `grace` has passed, then cancels the
  // gRPC calls still open, which cancels their ServerContexts. Blocks until every handler that
  // was started has returned (so a handler that ignores cancellation blocks it). Idempotent.
  void Shutdown(absl::Duration grace = absl::ZeroDuration());

 private:
  void RequestCall();  // Arms the server for one more incoming call.
  void PollLoop();     // One completion-queue thread.
  void CallDeleted();

  Dispatcher* const dispatcher_;
  const GrpcAdapterOptions options_;
  int port_ = 0;
  bool started_ = false;

  std::unique_ptr<grpc::AsyncGenericService> generic_service_;
  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<grpc_adapter::CallEnvironment> env_;
  ElasticThreadPool stream_threads_;
  grpc_adapter::AdoptedPeers adopted_peers_;
  std::vector<std::thread> threads_;

  std::mutex mu_;
  std::condition_variable calls_cv_;
  bool serving_ = false;    // guarded by mu_: Start() succeeded and Shutdown() has not begun
  bool shut_down_ = false;  // guarded by mu_
  int live_calls_ = 0;      // guarded by mu_: call objects in existence
};

}  // namespace framerpc

#endif  // FRAMERPC_ADAPTERS_GRPC_GRPC_ADAPTER_H_

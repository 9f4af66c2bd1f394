// GrpcAdapter: serves the unary methods of a framerpc Dispatcher over real gRPC (HTTP/2), with no
// per-service gRPC code. gRPC's generic async API hands over every call as
// "/package.Service/Method" plus request bytes; the adapter wraps them in a framerpc REQUEST
// frame, runs the call through the Dispatcher, and answers with the RESPONSE's status and message
// bytes. Status codes need no mapping: framerpc uses the gRPC canonical codes. The standard
// grpc.health.v1.Health service is served as well.
//
//   framerpc::Server server;                 // or a bare Dispatcher
//   server.AddService(&echo);
//   GrpcAdapterOptions options;              // listens on 127.0.0.1:0 by default
//   options.health_services = {"framerpc.echo.EchoService"};
//   GrpcAdapter grpc(server.dispatcher(), options);
//   FRPC_RETURN_IF_ERROR(grpc.Start());
//   ... grpc.listen_port() ...
//   grpc.Shutdown(absl::Seconds(5));
//
// Unary only: a client that streams more than one request message is not detected. Not carried
// across: attachments (gRPC has no such thing; the request has none and a response attachment is
// dropped), and cancellation: a gRPC cancel or expired deadline ends the call on the wire, but the
// handler's ServerContext::IsCancelled() stays false (see Shutdown()).
//
// Threading: Start() and Shutdown() must not run concurrently with each other; listen_port() is
// safe from any thread once Start() has returned.
// Handlers run on the adapter's threads (inline services) or on the Dispatcher's worker pool.
// Lifetime: the Dispatcher is not owned and must outlive the adapter; its services must not be
// changed after Start(). Shut the adapter down before the Server that owns the Dispatcher. The
// destructor shuts down.
#ifndef FRAMERPC_ADAPTERS_GRPC_GRPC_ADAPTER_H_
#define FRAMERPC_ADAPTERS_GRPC_GRPC_ADAPTER_H_

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "rpc/dispatcher.h"

namespace grpc {
class AsyncGenericService;
class Server;
class ServerCompletionQueue;
}  // namespace grpc

namespace framerpc {

struct GrpcAdapterOptions {
  // gRPC address syntax ("127.0.0.1:0", "[::1]:50051", "unix:/path"). Loopback by default: the
  // adapter speaks plaintext, so exposing it is a deliberate choice of the caller.
  std::string listen_address = "127.0.0.1:0";
  // Threads polling the completion queue; inline handlers run on them.
  int handler_threads = 2;
  // Full service names ("package.Service") reported SERVING by grpc.health.v1.Health, besides ""
  // (the whole server). Unlisted names get NOT_FOUND from Check.
  std::vector<std::string> health_services;
};

class GrpcAdapter {
 public:
  GrpcAdapter(Dispatcher* dispatcher, GrpcAdapterOptions options = {});
  ~GrpcAdapter();
  GrpcAdapter(const GrpcAdapter&) = delete;
  GrpcAdapter& operator=(const GrpcAdapter&) = delete;

  // Binds and starts serving. Once only. Note: enables gRPC's default health check service, which
  // is a process-wide gRPC setting (grpc::EnableDefaultHealthCheckService).
  absl::Status Start();

  // The bound TCP port (the real one for port 0), as gRPC reports it; 0 before Start().
  int listen_port() const { return port_; }

  // Stops accepting calls, lets running calls finish until `grace` has passed, then cancels the
  // gRPC calls still open. Blocks until every handler that was started has returned: a handler
  // that never returns blocks this forever, as its ServerContext is not cancelled (that needs a
  // cancel hook that //rpc does not export yet). Idempotent.
  void Shutdown(absl::Duration grace = absl::ZeroDuration());

 private:
  class Call;
  friend class Call;

  void RequestCall();          // Arms the server for one more incoming call.
  void PollLoop();             // One handler thread.
  void CallEnded();            // A Call has been deleted.

  Dispatcher* const dispatcher_;
  const GrpcAdapterOptions options_;
  int port_ = 0;
  bool started_ = false;
  bool shut_down_ = false;

  std::unique_ptr<grpc::AsyncGenericService> generic_service_;
  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
  std::unique_ptr<grpc::Server> server_;
  std::vector<std::thread> threads_;

  std::mutex mu_;
  std::condition_variable calls_cv_;
  int live_calls_ = 0;  // Call objects in existence, guarded by mu_
};

}  // namespace framerpc

#endif  // FRAMERPC_ADAPTERS_GRPC_GRPC_ADAPTER_H_

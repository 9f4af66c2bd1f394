// InProcessConnector: a Server's way in for channels of the same process, without a socket. A
// connection made through it is an in-memory pipe (transport/memory_pipe.h) whose server end the
// Server serves exactly as an accepted socket: the same dispatcher, connection limits, timeouts,
// GOAWAY and shutdown. rpc/in_process_channel.h makes a Channel of it:
//
//   framerpc::Server server;
//   server.AddService(&echo);
//   FRPC_RETURN_IF_ERROR(server.Start());   // a server reached only in-process needs no listener
//   FRPC_ASSIGN_OR_RETURN(std::unique_ptr<Channel> channel,
//                         NewInProcessChannel(server.in_process_connector()));
//
// The server's connections see the peer address InProcessPeerAddress() and, as a peer on a Unix
// socket would, this process's own credentials (uid, gid, pid) as its identity.
//
// Lifetime: shared between the Server and its channels (either may go first); after the Server
// has begun shutting down, or before it started, Connect() fails with UNAVAILABLE.
// Thread-safe.
#ifndef FRAMERPC_RPC_IN_PROCESS_CONNECTOR_H_
#define FRAMERPC_RPC_IN_PROCESS_CONNECTOR_H_

#include <functional>
#include <mutex>

#include "absl/status/statusor.h"
#include "transport/memory_pipe.h"
#include "transport/socket_address.h"

namespace framerpc {

class InProcessConnector {
 public:
  // What the Server does with a new connection: serves one end of a pipe, returns the other.
  using Accept = std::function<absl::StatusOr<MemoryPipeEnd>()>;

  InProcessConnector() = default;
  InProcessConnector(const InProcessConnector&) = delete;
  InProcessConnector& operator=(const InProcessConnector&) = delete;

  // The client's end of a new connection to the server: UNAVAILABLE when the server is not
  // serving, or the server's refusal (RESOURCE_EXHAUSTED at a connection limit).
  absl::StatusOr<MemoryPipeEnd> Connect();

  // For the Server: Open() at Start(); Close() when shutting down, which waits for a Connect()
  // in progress, so `accept` is not called once Close() has returned.
  void Open(Accept accept);
  void Close();

 private:
  std::mutex mu_;
  Accept accept_;       // guarded by mu_; empty until Open() and after Close()
  bool closed_ = false;  // guarded by mu_
};

// The address in-process connections are given on both sides ("unix:@framerpc-in-process", an
// abstract Unix name no socket is bound to): what ServerContext::peer() says.
const SocketAddress& InProcessPeerAddress();

}  // namespace framerpc

#endif  // FRAMERPC_RPC_IN_PROCESS_CONNECTOR_H_

// Server: hosts services on any number of listening addresses (TCP over IPv4/IPv6, Unix sockets).
//
//   framerpc::Server server(options);
//   EchoImpl echo;                            // not owned; must outlive the server
//   server.AddService(&echo);
//   server.AddListener("127.0.0.1:0");
//   server.AddListener("unix:/tmp/f.sock");
//   FRPC_RETURN_IF_ERROR(server.Start());
//   ... server.listen_address(0) ...
//   server.Shutdown(absl::Seconds(5));       // graceful: stop accepting, finish calls, close
//
// Channels of the same process may also reach it without a socket: in_process_connector() and
// rpc/in_process_channel.h (a server with no listener, whose connector was taken before Start(),
// serves only them).
//
// Threading: AddService/AddListener before Start(), from one thread. Start(), Shutdown() and the
// accessors are thread-safe after that. The destructor shuts down (with no grace period left
// unspent if already shut down).
#ifndef FRAMERPC_RPC_SERVER_H_
#define FRAMERPC_RPC_SERVER_H_

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include <condition_variable>
#include <mutex>

#include "base/notification.h"
#include "absl/time/time.h"
#include "rpc/dispatcher.h"
#include "rpc/in_process_connector.h"
#include "rpc/connection_counts.h"
#include "rpc/connection_timeouts.h"
#include "rpc/server_connection.h"
#include "rpc/server_stats.h"
#include "transport/byte_budget.h"
#include "transport/acceptor.h"
#include "transport/event_loop_thread.h"
#include "transport/frame_codec.h"
#include "transport/record_layer.h"
#include "transport/tls/tls_context.h"

namespace framerpc {

struct ServerOptions {
  // Event loop threads; <= 0 means one per core. Each connection lives on one of them.
  int io_threads = 0;
  // Threads for services added with run_inline = false.
  int worker_threads = 4;
  int listen_backlog = 1024;
  FrameLimits limits;
  // Per-connection queued-output bound; above it the connection stops being read.
  size_t output_high_water_bytes = 16u << 20;
  // Calls one connection may have running at once; at the limit the connection stops being read
  // until one finishes. Requests are delayed, never refused or lost.
  size_t max_concurrent_calls_per_connection = 1024;
  // Streaming calls one connection may have open at once (each holds a handler thread); beyond
  // it a new stream is refused with RESOURCE_EXHAUSTED. Streams do not count towards
  // max_concurrent_calls_per_connection, since a stream must keep being read to make progress.
  size_t max_concurrent_streams_per_connection = 256;
  // Streaming calls open at once across all connections; beyond it new streams are refused with
  // RESOURCE_EXHAUSTED.
  size_t max_concurrent_streams = 4096;
  // The largest receive window a client may ask for in a streaming REQUEST (docs/protocol.md
  // §11.2); a larger one is refused with RESOURCE_EXHAUSTED. It bounds what one stream's handler
  // can queue on its connection while the client does not read. Below 1 MiB (the default window)
  // it refuses clients that ask for no particular window too.
  uint32_t max_stream_window_bytes = 16u << 20;
  // A handler's blocking stream Write() that gets no credit for this long (the client has read
  // nothing meanwhile) fails, and the call ends with RESOURCE_EXHAUSTED: a client that never
  // reads cannot hold the handler's thread, its slot and its memory. InfiniteDuration: no limit.
  absl::Duration stream_stall_timeout = absl::Minutes(1);
  // Busy polling, off by default: after each burst of work an I/O thread keeps polling its sockets
  // for up to this long before it sleeps in epoll_wait, so that a request arriving within the
  // window is read without the kernel waking a sleeping thread (tens of microseconds on a virtual
  // machine). Each I/O thread then keeps a CPU busy for the window after every burst of work: use
  // it with a core to spare per I/O thread. See EventLoop's constructor. At most 1 s.
  absl::Duration busy_poll = absl::ZeroDuration();
  // How long a peer may take at each stage of a connection before it is closed: the first byte
  // after the accept (on a shared port as well, while its protocol is not yet known), a frame's
  // header and envelope, its body (a minimum rate), an idle connection with no call, and
  // keepalive PINGs to find dead peers (rpc/connection_timeouts.h, docs/protocol.md §9.1).
  ConnectionTimeoutOptions timeouts;
  // Told of every call (metrics, the access log); not owned, must outlive the server. Null:
  // nobody watches, and nothing is spent on it.
  CallObserver* observer = nullptr;
  // Told of every connection or stream refused or shed at a limit, every protocol error and
  // every close by a timeout, with the peer and the reason (the refusal log); not owned, must
  // outlive the server. Null: nobody is told.
  RefusalObserver* refusals = nullptr;
  // The most connections held at once (those whose protocol is not yet known included); 0 means
  // the process's file-descriptor limit (RLIMIT_NOFILE) less a tenth, at least 64, kept for
  // everything else. At the limit the oldest idle connection (no call in flight, no frame
  // begun) is closed to make room (GOAWAY first); with none idle, the new one is refused with
  // CONNECTION_ERROR RESOURCE_EXHAUSTED. So connections that sit silent cannot lock others out.
  size_t max_connections = 0;
  // The same per peer (a TCP peer's IP address, a Unix-socket peer's uid), with the peer's own
  // oldest idle connection closed first. 0, the default: no per-peer limit (clients behind one
  // proxy or NAT share an address).
  size_t max_connections_per_peer = 0;
  // The most bytes held for peers across all connections: bodies of frames still arriving
  // (counted in full as soon as a large frame's header has arrived, before its storage is
  // reserved) and output queued for clients that read slowly. Past it, connections stop reading
  // new frames until enough is released (backpressure; nothing is refused); frames already
  // arriving go on, and a peer that holds its share without sending is closed by the body
  // timeout. 0: a quarter of physical memory.
  size_t memory_budget_bytes = 0;
};

class Server {
 public:
  explicit Server(ServerOptions options = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // `service` is not owned and must outlive the server.
  absl::Status AddService(Service* service, ServiceOptions options = {});
  // Whether a listener speaks TLS (with the context given to SetTlsContext).
  enum class ListenerTls {
    kOff,       // plaintext only; a TLS ClientHello is refused as a protocol not served here
    kOptional,  // the shared port: a ClientHello (first byte 0x16) gets TLS, plaintext is served
    kRequired,  // TLS only: plaintext is refused (a framed client gets CONNECTION_ERROR
                // FAILED_PRECONDITION saying so) and logged, never left hanging
  };
  // "host:port" (port 0 picks a free port), "[v6]:port" or "unix:/path". Binds now, so that
  // address errors surface here.
  absl::Status AddListener(absl::string_view address, ListenerTls tls = ListenerTls::kOff);
  // The context TLS listeners handshake with (transport/tls); needed before Start() when a
  // listener has TLS. Thread-safe: a later call (a certificate reload) applies to handshakes that
  // begin after it; connections already made go on with the context they were made with.
  void SetTlsContext(std::shared_ptr<TlsContext> context);

  // Another protocol served on the same listeners (docs/protocol.md §12), told apart from
  // framerpc and from the others by the first bytes a client sends.
  enum class ProtocolMatch { kNeedMore, kMatch, kNoMatch };
  struct ForeignProtocol {
    std::string name;  // for errors: "http2"
    // Whether `first_bytes` (the bytes received so far, at most kMaxSniffBytes, never starting
    // with 'F') open this protocol. kNeedMore: a prefix of it; ask again with more. Pure.
    std::function<ProtocolMatch(absl::string_view first_bytes)> match;
    // Receives a matching connection with all its bytes still unread. Runs on an I/O thread and
    // must not block; owns `fd` from then on.
    std::function<void(ScopedFd fd, const SocketAddress& peer)> handler;
  };
  static constexpr size_t kMaxSniffBytes = 64;
  // Before Start(). With at least one foreign protocol, every accepted connection is held,
  // reading nothing, until its first bytes tell its protocol: 'F' (the framerpc magic) is served
  // here, a match goes to that protocol's handler, and a connection that matches nothing, closes
  // first, or does not say within timeouts.first_byte is closed (and counted). Without one (the
  // default) connections are served at once and other protocols get CONNECTION_ERROR.
  absl::Status AddForeignProtocol(ForeignProtocol protocol);
  // Starts serving the listeners and in-process channels. FAILED_PRECONDITION when the server
  // would be unreachable: no listener added and in_process_connector() not taken.
  absl::Status Start();

  // The way in for in-process channels (rpc/in_process_channel.h): connections over in-memory
  // pipes, served as accepted sockets are. Refuses them with UNAVAILABLE before Start() and from
  // Shutdown() on. Thread-safe; the connector may outlive the server. Taken before Start(), it
  // lets a server with no listener start.
  std::shared_ptr<InProcessConnector> in_process_connector() const {
    in_process_taken_.store(true, std::memory_order_relaxed);
    return in_process_;
  }

  // The bound address of listener `i`, with the real port for port 0.
  std::string listen_address(size_t i) const;
  int listen_port(size_t i) const;
  size_t connection_count() const;
  // The services' dispatch table, for other transports serving the same services (UDP). Valid
  // for the server's lifetime.
  Dispatcher* dispatcher() { return &dispatcher_; }
  // Blocks until connection_count() == n or `deadline`; returns whether it got there. Closed
  // connections have released their sockets by then.
  bool WaitForConnectionCount(size_t n, absl::Time deadline) const;
  // Connections currently paused by backpressure (their client is not reading replies).
  size_t paused_connection_count() const;
  // Blocks until paused_connection_count() == n or `deadline`; returns whether it got there.
  bool WaitForPausedConnectionCount(size_t n, absl::Time deadline) const;
  // The memory budget (ServerOptions::memory_budget_bytes), from Start() on.
  const ByteBudget& memory_budget() const { return *memory_budget_; }
  // Connections accepted, and closed by reason. Valid for the server's lifetime.
  const ServerStats& stats() const { return stats_; }
  // Every framed connection now, and every call in flight on them, for the status pages. Each
  // visits every I/O thread (so never call them from one), waiting at most `wait` for them: the
  // connections of an I/O thread busy longer (a handler run inline that blocks) are left out and
  // counted in `*unanswered` (when not null).
  std::vector<ConnectionInfo> Connections(absl::Duration wait = absl::Seconds(2),
                                          size_t* unanswered = nullptr);
  std::vector<InFlightCall> CallsInFlight(absl::Duration wait = absl::Seconds(2),
                                          size_t* unanswered = nullptr);
  // Reply bytes queued in user space across all connections (not yet taken by the kernel).
  // Visits every I/O thread (so never call it from one); for monitoring and tests.
  size_t QueuedOutputBytes();

  // Blocks until Shutdown() has begun (acceptors closed, GOAWAY being sent) or `deadline`.
  bool WaitForShutdownStarted(absl::Time deadline) const {
    return shutdown_started_.WaitForNotificationWithDeadline(deadline);
  }

  // Graceful shutdown: stops accepting, sends GOAWAY on every connection, waits up to `grace` for
  // calls in flight to finish, ends the calls still open after it with UNAVAILABLE "server
  // shutting down" (and cancels their handlers), lets the replies be written, then closes
  // everything. Idempotent.
  void Shutdown(absl::Duration grace = absl::Seconds(10));

 private:
  struct Listener {
    EventLoop* loop;
    std::unique_ptr<Acceptor> acceptor;
    SocketAddress address;
    ListenerTls tls = ListenerTls::kOff;
  };

  // A connection held until its first byte tells its protocol; lives on `loop`.
  struct Sniffing;

  void OnAccepted(EventLoop* loop, ListenerTls tls, ScopedFd fd, const SocketAddress& peer);
  // At a limit (`verdict`): closes the oldest idle connection (of `peer_key` for a per-peer
  // limit) and counts the new one in its place; false if none is idle.
  bool ShedOldestIdle(ConnectionCounts::Verdict verdict, const std::string& peer_key);
  // Refuses an accepted connection at a limit with CONNECTION_ERROR RESOURCE_EXHAUSTED.
  void Refuse(EventLoop* loop, ScopedFd fd, const SocketAddress& peer,
              ConnectionCounts::Verdict verdict, const std::string& peer_key);
  void OnFirstBytes(Sniffing* sniffing);
  // Takes `key` out of sniffing_ (null if it is gone already) and stops watching it.
  std::shared_ptr<Sniffing> StopSniffing(Sniffing* key);
  void OnSniffTimeout(Sniffing* sniffing);
  // The TLS stage (server_tls.cc): a ClientHello arrived on a TLS listener; the handshake runs
  // on the connection's loop, bounded by timeouts.handshake, and hands the connection on with
  // its session once done.
  void StartHandshake(Sniffing* sniffing);
  void OnHandshakeProgress(Sniffing* sniffing);
  void OnHandshakeTimeout(Sniffing* sniffing);
  // Plaintext on a TLS-only listener: refused, saying so to a framed client.
  void RefusePlaintext(Sniffing* sniffing, char first_byte);
  // Writes `bytes` (may be empty), closes the write side and closes once the peer has closed or
  // `linger` passed, reading and discarding, so that no reset destroys what was written (a
  // refusal frame, a TLS alert).
  void CloseGracefully(EventLoop* loop, ScopedFd fd, const SocketAddress& peer, std::string bytes,
                       absl::Status reason, absl::Duration linger);
  // What an accepted connection carries from the accept to its ServerConnection.
  struct Accepted {
    SocketAddress peer;
    PeerIdentity identity;
    std::string peer_key;  // counted in counts_
    uint64_t seq;          // accept order: lower is older
  };
  void OnNewConnection(ScopedFd fd, Accepted accepted,
                       std::unique_ptr<RecordLayer> record_layer = nullptr);
  // On `closed`'s loop, after it closed: drops it from connections_ and the counts.
  void Forget(ServerConnection* closed);
  void Refused(RefusalKind kind, const SocketAddress& peer, absl::string_view reason) const;
  // Why a connection is refused at a limit (`verdict`), for the client.
  absl::Status LimitRefusal(ConnectionCounts::Verdict verdict, const std::string& peer_key) const;
  // The server end of a new in-process connection is admitted and served as an accepted socket
  // (server_in_process.cc); returns the client end, or why it was refused. Any thread.
  absl::StatusOr<MemoryPipeEnd> AcceptInProcess();
  // Runs `fn` on every connection's loop thread and waits for all of them.
  template <typename T, typename Describe>
  std::vector<T> GatherFromConnections(absl::Duration wait, size_t* unanswered, Describe describe);
  void ForEachConnection(const std::function<void(ServerConnection*)>& fn);

  const ServerOptions options_;
  const std::shared_ptr<InProcessConnector> in_process_ = std::make_shared<InProcessConnector>();
  mutable std::atomic<bool> in_process_taken_{false};
  // Before everything that may hold a connection: connections count against these until the
  // last reference to them goes.
  ServerStats stats_;
  std::unique_ptr<ByteBudget> memory_budget_;  // from Start()
  Dispatcher dispatcher_;
  InFlightCounter in_flight_;
  StreamSlots stream_slots_;
  std::unique_ptr<EventLoopThreadPool> loops_;
  std::vector<Listener> listeners_;
  std::vector<std::pair<ScopedFd, SocketAddress>> pending_listeners_;
  std::vector<ListenerTls> pending_tls_;  // of each pending listener
  std::shared_ptr<TlsContext> tls_context_;  // guarded by mu_
  bool started_ = false;

  Notification shutdown_started_;
  mutable std::mutex mu_;
  mutable std::condition_variable connections_changed_;
  bool shut_down_ = false;  // guarded by mu_
  size_t paused_connections_ = 0;  // guarded by mu_
  // Owned here; each entry is touched only on its connection's loop, except for insertion and
  // removal under mu_. A pointer alone per connection (found by its raw pointer): its accept
  // order and shedding mark live in the ServerConnection, and its peer key is computed again
  // from its address when needed, since a table slot was a tenth of an idle connection's memory.
  absl::flat_hash_set<std::shared_ptr<ServerConnection>> connections_;
  // What every ServerConnection shares and is limited by, set in Start() before the first
  // connection; each connection refers to these, so they outlive it.
  ServerConnection::Shared connection_shared_{};
  ServerConnection::Limits connection_limits_;
  std::unique_ptr<ConnectionCounts> counts_;  // from Start()
  std::atomic<uint64_t> next_seq_{0};
  // Connections being refused at a limit, kept alive until their refusal is written.
  absl::flat_hash_map<Connection*, std::shared_ptr<Connection>> refusing_;  // guarded by mu_
  std::vector<ForeignProtocol> foreign_protocols_;
  // Connections whose first byte has not arrived; inserted and erased under mu_, their watchers
  // touched only on their loops.
  absl::flat_hash_map<Sniffing*, std::shared_ptr<Sniffing>> sniffing_;
};

}  // namespace framerpc

#endif  // FRAMERPC_RPC_SERVER_H_

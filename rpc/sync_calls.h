// Internal to //rpc:channel: the caller-driven fast path for blocking calls.
//
// A blocking call through the multiplexed connection costs two thread hand-offs (caller -> I/O
// thread -> caller). Here the calling thread instead borrows a connection of its own from a small
// pool, writes the request and reads the reply itself, like a raw blocking socket: send + recv,
// and no other thread is woken. When every pooled connection is busy, the caller falls back to
// the multiplexed path, so concurrency stays bounded by `max_connections` extra sockets.
//
// Semantics match the multiplexed path: the deadline is sent to the server, and when it passes the
// call ends with DEADLINE_EXCEEDED and a CANCEL frame; TryCancel() from any thread ends the call
// with CANCELLED (the connection is shut down, which the server sees as a cancellation); a dead or
// draining connection ends the call with UNAVAILABLE and is never reused; nothing is retried.
//
// Keepalive (docs/protocol.md §9.1): a PING that arrives during a call is answered by the caller's
// thread. An idle pooled connection is watched by the channel's I/O thread once it has been idle
// for kIdleWatchDelay to 2 * kIdleWatchDelay, and the loop then answers PINGs (and takes in a
// GOAWAY or the server's close) while nobody borrows it. Until then a PING waits, so a server's
// keepalive timeout must exceed 2 * kIdleWatchDelay (it is seconds in practice). Watching starts
// late so that a connection in steady use costs the loop nothing per call.
//
// TLS (a channel with ChannelOptions::tls): a pooled connection does its handshake on the
// caller's thread right after connecting (rpc/blocking_handshake.h), under min(deadline, the
// connect timeout), with the channel's TlsContext: the same verification, ALPN and session
// resumption as the multiplexed connection, and the same errors. Calls then SSL_write and
// SSL_read on the caller's thread over the blocking socket, as plaintext calls send and recv.
// One thread at a time touches a connection's SSL, as with its input buffer: the caller that
// borrowed it, or, while it sits in the pool, whoever holds mu_ (the probe before a borrow, the
// loop serving an idle watch); Cancel() from another thread only shuts the socket down and never
// touches the SSL. Reads and writes that must not block (idle serving, PING ACKs, CANCEL) use
// TlsSession::SetDontWait.
//
// Thread-safe.
#ifndef FRAMERPC_RPC_SYNC_CALLS_H_
#define FRAMERPC_RPC_SYNC_CALLS_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "google/protobuf/message_lite.h"
#include "rpc/channel.h"
#include "rpc/context.h"
#include "base/scoped_fd.h"
#include "transport/buffer.h"
#include "transport/event_loop.h"
#include "transport/socket_address.h"
#include "transport/tls/tls_context.h"
#include "transport/tls/tls_session.h"
#include "transport/watcher.h"

namespace framerpc {

// How long a pooled connection must have been idle before the I/O thread watches it (at most twice
// this), answering PINGs.
inline constexpr absl::Duration kIdleWatchDelay = absl::Milliseconds(100);

class SyncCalls {
 public:
  // `loop`: the channel's I/O thread, which watches idle connections. It must run until
  // StopWatching() has run on it. `tls`: the channel's client context (null: plaintext), whose
  // sessions verify the server as `tls_server_name` (the target's host; the options' name wins).
  SyncCalls(std::string target, SocketAddress address, ChannelOptions options, EventLoop* loop,
            std::shared_ptr<TlsContext> tls = nullptr, std::string tls_server_name = "");
  // Shuts down the connections of calls still running and waits for them to return. Call
  // StopWatching() first.
  ~SyncCalls();
  SyncCalls(const SyncCalls&) = delete;
  SyncCalls& operator=(const SyncCalls&) = delete;

  // Runs the call on the caller's thread, or returns nullopt (having done nothing) when no pooled
  // connection is free; the caller then uses the multiplexed path.
  std::optional<absl::Status> TryCall(uint64_t id, absl::string_view method, ClientContext* context,
                                      const google::protobuf::MessageLite& request,
                                      google::protobuf::MessageLite* response,
                                      CallCanceller* canceller);

  // True if `call_id` was a call running here (now cancelled). Thread-safe.
  bool Cancel(uint64_t call_id);

  // Loop thread, once, before the loop stops: no idle connection is watched from now on.
  void StopWatching();

 private:
  // Request attachments of at least this many bytes are sent from the caller's buffer behind the
  // frame's head (sendmsg of both) rather than copied into the frame.
  static constexpr size_t kSeparateAttachmentBytes = 16 << 10;

  struct Conn {
    // Invalid until RunOnce connects it. Set under mu_ (Cancel() reads it there); from then on
    // read by the thread that holds the Conn.
    ScopedFd fd;
    // TLS channels, once connected. Declared after `fd`: freed before the socket closes.
    std::unique_ptr<TlsSession> tls;
    Buffer input;
    std::atomic<bool> cancelled{false};
    absl::Duration receive_timeout = absl::ZeroDuration();  // as set with SO_RCVTIMEO
    // When the last call on it ended with its reply read in full, so that nothing can be pending
    // on the socket but what the server sent since; InfinitePast() otherwise.
    absl::Time clean_since = absl::InfinitePast();
    // Idle watching. A Conn with `watched` set is destroyed only on the loop thread (Dispose).
    bool watched = false;                  // guarded by mu_: idle_watch exists
    uint64_t borrows = 0;                  // guarded by mu_
    uint64_t borrows_at_sweep = ~uint64_t{0};  // loop thread: `borrows` at the last sweep
    std::unique_ptr<Watcher> idle_watch;   // loop thread
  };

  // A healthy idle connection, a new one (not connected yet: RunOnce connects it), or nullptr
  // when the pool is at its limit.
  // `may_skip_probe`: a connection returned clean within ChannelOptions::sync_probe_bypass is handed out
  // without StillUsable(); *probed says whether that happened.
  absl::StatusOr<std::unique_ptr<Conn>> Borrow(bool may_skip_probe, bool* probed);
  // One attempt of a call on `conn`, which it returns to the pool (or closes). *not_processed:
  // the server's GOAWAY proves it never processed the call.
  // `frame` is whole, or a head that `tail` (the request attachment) completes.
  absl::Status RunOnce(std::unique_ptr<Conn> conn, uint64_t id, absl::string_view frame,
                       absl::string_view tail, absl::Time deadline, ClientContext* context,
                       google::protobuf::MessageLite* response, CallCanceller* canceller,
                       bool* not_processed);
  // Reads whatever an idle connection has received (stale replies, GOAWAY, EOF) without blocking;
  // false if it must not be used. Skipped within ChannelOptions::sync_probe_bypass of a clean call.
  bool StillUsable(Conn* conn);
  // Connects `conn` (which has no socket yet), by min(deadline, now + connect_timeout) and
  // unless the call is cancelled. The socket is left blocking.
  absl::Status Connect(Conn* conn, absl::Time deadline);
  absl::Status WaitConnected(Conn* conn, absl::Time deadline, absl::Time connect_deadline);
  // TLS: the handshake on the connected, still non-blocking socket, by the earlier of the two.
  absl::Status Handshake(Conn* conn, absl::Time deadline, absl::Time connect_deadline);
  // Reads what the connection has into conn->input: one recv, or one SSL_read (which may return
  // decrypted bytes without a syscall). read(2)'s convention: > 0 bytes, 0 the end, < 0 with
  // *err (EAGAIN when SO_RCVTIMEO expired or, with `dont_wait`, nothing is there yet).
  ssize_t ReadSome(Conn* conn, bool dont_wait, int* err, std::string* tls_error);
  void Return(std::unique_ptr<Conn> conn, bool reusable);
  // Destroys a connection that is not in the pool: at once, or on the loop if it is watched.
  // Requires mu_.
  void DisposeLocked(std::unique_ptr<Conn> conn);

  // Idle watching, loop thread. Sweep watches the pooled connections idle since the last sweep
  // and runs again while others may become so; OnIdleReadable serves a watched connection.
  void Sweep();
  void OnIdleReadable(Conn* conn);
  // Stops watching `conn` (the watcher is destroyed after the current callback). Requires mu_.
  void UnwatchLocked(Conn* conn);
  // Reads what has arrived on an idle connection without blocking and acts on it: answers PINGs,
  // skips late replies; false once it must not be used (closed, GOAWAY, CONNECTION_ERROR, a bad
  // frame, an answer that could not be sent). Whoever holds the Conn.
  bool ServeIdle(Conn* conn);
  // Sends the ACK of a PING on a connection whose output is otherwise idle; false if it could
  // not be sent whole (the connection must then not be used again).
  bool SendPingAck(Conn* conn, uint64_t ping_data);

  // Sends `head` then `tail` (one sendmsg of both while the socket takes them).
  absl::Status Send(Conn* conn, absl::string_view head, absl::string_view tail,
                    absl::Time deadline);
  absl::Status SendTls(Conn* conn, absl::string_view head, absl::string_view tail,
                       absl::Time deadline);
  // Reads until the RESPONSE for `id`. *reusable is cleared when the connection must be dropped.
  absl::Status Receive(Conn* conn, uint64_t id, absl::Time deadline, ClientContext* context,
                       google::protobuf::MessageLite* response, bool* reusable, bool* not_processed);
  // False if the frame could not be sent whole (the connection is then out of step).
  bool SendCancel(Conn* conn, uint64_t id);
  // Writes `frame` without blocking; true if all of it left.
  bool SendNow(Conn* conn, absl::string_view frame);

  const std::string target_;
  const SocketAddress address_;
  const ChannelOptions options_;
  EventLoop* const loop_;
  const std::shared_ptr<TlsContext> tls_;
  const std::string tls_server_name_;

  std::mutex mu_;
  std::condition_variable idle_;  // signalled when a running call ends
  std::vector<std::unique_ptr<Conn>> pool_;           // guarded by mu_: idle connections
  absl::flat_hash_map<uint64_t, Conn*> running_;     // guarded by mu_: call id -> its connection
  size_t open_ = 0;                                   // guarded by mu_: idle + running
  bool closing_ = false;                              // guarded by mu_
  bool sweep_scheduled_ = false;                      // guarded by mu_
  bool watching_stopped_ = false;                     // guarded by mu_
  absl::flat_hash_set<Conn*> watched_;                // guarded by mu_: conns with an idle_watch
};

}  // namespace framerpc

#endif  // FRAMERPC_RPC_SYNC_CALLS_H_

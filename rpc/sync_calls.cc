#include "rpc/sync_calls.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "base/scratch_string.h"
#include "rpc/call_access.h"
#include "rpc/client_frames.h"
#include "transport/socket_ops.h"

namespace framerpc {
namespace {

// ChannelOptions::busy_poll for a blocking call: polls `fd` without sleeping until it has bytes
// (or end of stream, or an error) for up to `window`, and never past `deadline`. The blocking read
// that follows then returns at once, or sleeps as it would have without the spin.
void SpinUntilReadable(int fd, absl::Duration window, absl::Time deadline) {
  if (deadline != absl::InfiniteFuture()) window = std::min(window, deadline - absl::Now());
  using Clock = std::chrono::steady_clock;
  const Clock::time_point until = Clock::now() + absl::ToChronoNanoseconds(window);
  // poll() rather than a peeking recv(): it leaves a pending socket error (a reset) for the read
  // that follows to report.
  pollfd pfd{fd, POLLIN, 0};
  do {
    if (::poll(&pfd, 1, 0) != 0) return;  // readable, closed, an error, or poll itself failed
  } while (Clock::now() < until);
}

// How long until `deadline`, for SO_RCVTIMEO / SO_SNDTIMEO; zero means "no timeout" there, so a
// deadline that has (almost) passed becomes 1us.
timeval SocketTimeout(absl::Time deadline) {
  if (deadline == absl::InfiniteFuture()) return timeval{0, 0};
  const absl::Duration left = std::max(deadline - absl::Now(), absl::Microseconds(1));
  return absl::ToTimeval(left);
}

}  // namespace

SyncCalls::SyncCalls(std::string target, SocketAddress address, ChannelOptions options,
                     EventLoop* loop, std::shared_ptr<TlsContext> tls, std::string tls_server_name)
    : target_(std::move(target)),
      address_(address),
      options_(options),
      loop_(loop),
      tls_(std::move(tls)),
      tls_server_name_(std::move(tls_server_name)) {}

SyncCalls::~SyncCalls() {
  std::unique_lock<std::mutex> lock(mu_);
  closing_ = true;
  for (auto& [id, conn] : running_) {
    conn->cancelled.store(true, std::memory_order_release);
    ::shutdown(conn->fd.get(), SHUT_RDWR);
  }
  idle_.wait(lock, [this] { return running_.empty(); });
  pool_.clear();
}

std::optional<absl::Status> SyncCalls::TryCall(uint64_t id, absl::string_view method,
                                               ClientContext* context,
                                               const google::protobuf::MessageLite& request,
                                               google::protobuf::MessageLite* response,
                                               CallCanceller* canceller) {
  if (options_.max_sync_connections == 0) return std::nullopt;
  if (context->cancel_requested()) return absl::CancelledError("cancelled before start");
  const absl::Time deadline = context->deadline();
  if (deadline <= absl::Now()) {
    return absl::DeadlineExceededError("deadline exceeded before the call started");
  }
  // A large attachment goes out from the caller's buffer behind the frame's head instead of
  // being copied into the frame: the caller is blocked here until the call ends.
  const absl::string_view attachment = context->request_attachment();
  const bool separate = attachment.size() >= kSeparateAttachmentBytes;
  const absl::string_view tail = separate ? attachment : absl::string_view();
  ScratchString frame;
  absl::Status encoded =
      separate ? EncodeRequestHead(id, method, *context, deadline, request, options_.limits,
                                   frame.get())
               : EncodeRequestFrame(id, method, *context, deadline, request, options_.limits,
                                    frame.get());
  if (!encoded.ok()) return encoded;

  // A second attempt only when the first went out on a connection reused without the liveness
  // probe and the server's GOAWAY proves it never processed the call.
  for (int attempt = 0;; ++attempt) {
    bool probed = true;
    absl::StatusOr<std::unique_ptr<Conn>> borrowed = Borrow(/*may_skip_probe=*/attempt == 0,
                                                            &probed);
    if (!borrowed.ok()) return borrowed.status();
    if (*borrowed == nullptr) return std::nullopt;  // Pool busy: use the multiplexed path.
    bool not_processed = false;
    absl::Status status = RunOnce(std::move(*borrowed), id, *frame, tail, deadline, context,
                                  response, canceller, &not_processed);
    if (!(not_processed && !probed)) return status;
  }
}

absl::Status SyncCalls::RunOnce(std::unique_ptr<Conn> conn, uint64_t id, absl::string_view frame,
                                absl::string_view tail, absl::Time deadline, ClientContext* context,
                                google::protobuf::MessageLite* response, CallCanceller* canceller,
                                bool* not_processed) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    running_[id] = conn.get();
  }
  ClientCallAccess::Bind(context, canceller, id);
  // A TryCancel() that came before Bind() found no call to cancel; honour it here.
  if (context->cancel_requested()) Cancel(id);

  bool reusable = true;
  absl::Status status;
  if (!conn->fd.valid()) {
    status = Connect(conn.get(), deadline);
    // Nothing of the call was written: another server may be tried (rpc/channel.h).
    if (absl::IsUnavailable(status)) status = MarkNeverSent(std::move(status));
  }
  if (status.ok()) status = Send(conn.get(), frame, tail, deadline);
  if (!status.ok()) {
    reusable = false;  // Part of a frame may be out: the stream is no longer in step.
  } else {
    status = Receive(conn.get(), id, deadline, context, response, &reusable, not_processed);
    // Timed out waiting: tell the server; a late reply is skipped by the next call here.
    if (absl::IsDeadlineExceeded(status) && !SendCancel(conn.get(), id)) reusable = false;
    // Records read ahead of the reply (a PING) would never make the socket readable for the idle
    // watch: served now, while this thread still holds the connection.
    if (reusable && conn->tls != nullptr && conn->tls->HasBufferedInput()) {
      reusable = ServeIdle(conn.get());
    }
  }
  // Before the call leaves running_: a TryCancel() that got in first still finds it there.
  ClientCallAccess::Unbind(context);

  bool cancelled;
  {
    std::lock_guard<std::mutex> lock(mu_);
    running_.erase(id);
    cancelled = conn->cancelled.load(std::memory_order_acquire);
  }
  // A cancel that lost the race with the reply leaves the reply in place; either way the
  // connection was shut down and is not reused.
  if (cancelled && !status.ok()) {
    status = absl::CancelledError("cancelled by the client");
    *not_processed = false;
  }
  // A reply read in full (whatever its status) leaves the connection in step with the server.
  const bool in_step = reusable && !cancelled && !absl::IsDeadlineExceeded(status) &&
                       conn->input.readable_bytes() == 0;
  conn->clean_since = in_step ? absl::Now() : absl::InfinitePast();
  Return(std::move(conn), reusable && !cancelled);
  return status;
}

bool SyncCalls::Cancel(uint64_t call_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = running_.find(call_id);
  if (it == running_.end()) return false;
  // Wakes the caller's blocked connect, send or recv; the server sees the connection go and
  // cancels the call. (Before its connect has made a socket, the caller sees `cancelled` then.)
  it->second->cancelled.store(true, std::memory_order_release);
  if (it->second->fd.valid()) ::shutdown(it->second->fd.get(), SHUT_RDWR);
  return true;
}

absl::StatusOr<std::unique_ptr<SyncCalls::Conn>> SyncCalls::Borrow(bool may_skip_probe,
                                                                   bool* probed) {
  for (;;) {
    std::unique_ptr<Conn> idle;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closing_) return absl::CancelledError("channel destroyed");
      if (pool_.empty()) {
        if (open_ >= options_.max_sync_connections) return std::unique_ptr<Conn>();
        ++open_;
        break;
      }
      idle = std::move(pool_.back());
      pool_.pop_back();
      ++idle->borrows;  // a watch on it stays until the loop sees its next input, and ends then
    }
    if (may_skip_probe && absl::Now() - idle->clean_since < options_.sync_probe_bypass) {
      *probed = false;
      return idle;
    }
    if (StillUsable(idle.get())) return idle;
    Return(std::move(idle), /*reusable=*/false);
  }
  return std::make_unique<Conn>();  // connected by RunOnce, under the call's deadline
}

bool SyncCalls::StillUsable(Conn* conn) {
  // The common case costs one syscall: nothing has arrived since the last call.
  if (conn->tls != nullptr && conn->tls->HasBufferedInput()) return ServeIdle(conn);
  char byte;
  const ssize_t peeked = ::recv(conn->fd.get(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (peeked < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
  if (peeked == 0) return false;  // The server closed it (e.g. it restarted).
  // Something arrived while idle: a late reply to a timed-out call, GOAWAY, a PING.
  return ServeIdle(conn);
}

bool SyncCalls::ServeIdle(Conn* conn) {
  for (;;) {
    int err = 0;
    std::string tls_error;
    const ssize_t n = ReadSome(conn, /*dont_wait=*/true, &err, &tls_error);
    if (n == 0) return false;
    if (n < 0) {
      if (err != EAGAIN && err != EWOULDBLOCK) return false;
      break;
    }
  }
  for (;;) {
    Frame frame;
    DecodeResult result = DecodeFrame(conn->input.view(), options_.limits, &frame);
    if (result.outcome == DecodeOutcome::kNeedMore) return true;
    if (result.outcome == DecodeOutcome::kError) return false;
    conn->input.Consume(result.consumed);
    if (frame.envelope.kind() == GOAWAY || frame.envelope.kind() == CONNECTION_ERROR) return false;
    if (IsPingToAnswer(frame.envelope) && !SendPingAck(conn, frame.envelope.ping_data())) {
      return false;
    }
  }
}

bool SyncCalls::SendPingAck(Conn* conn, uint64_t ping_data) {
  // Never blocks: a server that does not read cannot hold the caller (or the loop) here.
  return SendNow(conn, PingAckFrame(ping_data, options_.limits));
}

absl::Status SyncCalls::Connect(Conn* conn, absl::Time deadline) {
  // The connect timeout covers the TLS handshake too, as on the multiplexed connection.
  const absl::Time connect_deadline = absl::Now() + options_.connect_timeout;
  bool in_progress = false;
  absl::StatusOr<ScopedFd> fd = StartConnect(address_, &in_progress);
  if (!fd.ok()) return fd.status();
  const int raw_fd = fd->get();
  {
    // Published under mu_, where Cancel() looks for it; a cancel that came before finds it here.
    std::lock_guard<std::mutex> lock(mu_);
    conn->fd = *std::move(fd);
    if (conn->cancelled.load(std::memory_order_acquire)) ::shutdown(raw_fd, SHUT_RDWR);
  }
  if (in_progress) {
    absl::Status connected = WaitConnected(conn, deadline, connect_deadline);
    if (!connected.ok()) return connected;
  }
  if (tls_ != nullptr) {
    absl::Status handshaken = Handshake(conn, deadline, connect_deadline);
    if (!handshaken.ok()) return handshaken;
  }
  // Blocking from here on: the caller's thread sleeps in send/recv, with SO_*TIMEO for deadlines.
  const int flags = ::fcntl(raw_fd, F_GETFL);
  ::fcntl(raw_fd, F_SETFL, flags & ~O_NONBLOCK);
  return absl::OkStatus();
}

absl::Status SyncCalls::WaitConnected(Conn* conn, absl::Time deadline,
                                      absl::Time connect_deadline) {
  const absl::Time until = std::min(deadline, connect_deadline);
  pollfd pfd{conn->fd.get(), POLLOUT, 0};
  for (;;) {
    // TryCancel() shuts the socket down, which ends the poll.
    if (conn->cancelled.load(std::memory_order_acquire)) {
      return absl::CancelledError("cancelled by the client");
    }
    const absl::Duration left = until - absl::Now();
    if (left <= absl::ZeroDuration()) {
      if (deadline < connect_deadline) return absl::DeadlineExceededError("deadline exceeded");
      return absl::UnavailableError(absl::StrCat("connect to ", target_, " timed out"));
    }
    const int64_t ms = absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1)));
    const int n = ::poll(&pfd, 1, static_cast<int>(std::min<int64_t>(ms, 1 << 30)));
    if (n > 0) break;
    if (n < 0 && errno != EINTR) {
      return absl::UnavailableError(
          absl::StrCat("connect to ", target_, ": poll failed: ", std::strerror(errno)));
    }
    // A timeout or a signal: the loop checks the time and the cancellation again.
  }
  if (conn->cancelled.load(std::memory_order_acquire)) {
    return absl::CancelledError("cancelled by the client");
  }
  return SocketError(conn->fd.get(), address_);
}

void SyncCalls::Return(std::unique_ptr<Conn> conn, bool reusable) {
  bool arm_sweep = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (reusable && !closing_) {
      // Armed once per kIdleWatchDelay at most, however many calls return meanwhile.
      if (!conn->watched && !sweep_scheduled_ && !watching_stopped_) {
        sweep_scheduled_ = arm_sweep = true;
      }
      pool_.push_back(std::move(conn));
    } else {
      --open_;
      DisposeLocked(std::move(conn));
    }
    idle_.notify_all();
  }
  if (arm_sweep) {
    loop_->QueueInLoop([this] { loop_->RunAfter(kIdleWatchDelay, [this] { Sweep(); }); });
  }
}

void SyncCalls::DisposeLocked(std::unique_ptr<Conn> conn) {
  if (!conn->watched) return;  // destroyed here
  // Its watch belongs to the loop, which may be about to report its fd: destroyed there.
  loop_->QueueInLoop([this, raw = conn.release()] {
    std::unique_ptr<Conn> owned(raw);
    std::lock_guard<std::mutex> lock(mu_);
    UnwatchLocked(owned.get());
  });
}

void SyncCalls::StopWatching() {
  std::lock_guard<std::mutex> lock(mu_);
  watching_stopped_ = true;
  const std::vector<Conn*> watched(watched_.begin(), watched_.end());
  for (Conn* conn : watched) UnwatchLocked(conn);
}

void SyncCalls::UnwatchLocked(Conn* conn) {
  if (!conn->watched) return;
  conn->watched = false;
  watched_.erase(conn);
  conn->idle_watch->Remove();
  // Destroyed once the current callback, which may be this watcher's own, has returned.
  loop_->QueueInLoop([watcher = std::shared_ptr<Watcher>(std::move(conn->idle_watch))] {});
}

void SyncCalls::Sweep() {
  std::lock_guard<std::mutex> lock(mu_);
  sweep_scheduled_ = false;
  if (watching_stopped_) return;
  bool again = false;
  for (std::unique_ptr<Conn>& conn : pool_) {
    if (conn->watched) continue;
    if (conn->borrows != conn->borrows_at_sweep) {  // used since the last sweep: not idle yet
      conn->borrows_at_sweep = conn->borrows;
      again = true;
      continue;
    }
    Conn* raw = conn.get();
    auto watcher = std::make_unique<Watcher>(loop_, raw->fd.get());
    // A hang-up or error is found by reading, as any input is.
    watcher->set_read_callback([this, raw] { OnIdleReadable(raw); });
    watcher->set_error_callback([this, raw] { OnIdleReadable(raw); });
    watcher->EnableReading();
    // Not watchable (epoll refused it): it stays in the pool unwatched, and the probe before its
    // next use takes in what arrived.
    if (!watcher->registration_error().ok()) continue;
    raw->idle_watch = std::move(watcher);
    raw->watched = true;
    watched_.insert(raw);
  }
  if (again) {
    sweep_scheduled_ = true;
    loop_->RunAfter(kIdleWatchDelay, [this] { Sweep(); });
  }
}

void SyncCalls::OnIdleReadable(Conn* conn) {
  // Served in place, under mu_ (a few non-blocking syscalls): a caller that wants a connection
  // meanwhile waits for it rather than finding the pool empty and opening another.
  std::lock_guard<std::mutex> lock(mu_);
  auto it = std::find_if(pool_.begin(), pool_.end(),
                         [conn](const std::unique_ptr<Conn>& c) { return c.get() == conn; });
  if (it == pool_.end()) {  // borrowed: its caller reads it now, and this input is for it
    UnwatchLocked(conn);
    return;
  }
  if (ServeIdle(conn) && !closing_) return;
  std::unique_ptr<Conn> dead = std::move(*it);
  pool_.erase(it);
  --open_;
  UnwatchLocked(dead.get());
  idle_.notify_all();
}

absl::Status SyncCalls::Send(Conn* conn, absl::string_view head, absl::string_view tail,
                             absl::Time deadline) {
  if (deadline != absl::InfiniteFuture()) {
    const timeval tv = SocketTimeout(deadline);
    ::setsockopt(conn->fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  }
  if (conn->tls != nullptr) {
    absl::Status sent = SendTls(conn, head, tail, deadline);
    if (!sent.ok()) return sent;
    head = tail = absl::string_view();
  }
  while (!head.empty() || !tail.empty()) {
    iovec iov[2];
    int pieces = 0;
    for (absl::string_view piece : {head, tail}) {
      if (!piece.empty()) iov[pieces++] = {const_cast<char*>(piece.data()), piece.size()};
    }
    msghdr message = {};
    message.msg_iov = iov;
    message.msg_iovlen = static_cast<size_t>(pieces);
    const ssize_t n = ::sendmsg(conn->fd.get(), &message, MSG_NOSIGNAL);
    if (n > 0) {
      const size_t from_head = std::min(static_cast<size_t>(n), head.size());
      head.remove_prefix(from_head);
      tail.remove_prefix(static_cast<size_t>(n) - from_head);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return absl::DeadlineExceededError("deadline exceeded");
    }
    return absl::UnavailableError(
        absl::StrCat("connection to ", target_, " lost: ", std::strerror(errno)));
  }
  if (deadline != absl::InfiniteFuture()) {
    const timeval none{0, 0};
    ::setsockopt(conn->fd.get(), SOL_SOCKET, SO_SNDTIMEO, &none, sizeof(none));
  }
  return absl::OkStatus();
}

absl::Status SyncCalls::Receive(Conn* conn, uint64_t id, absl::Time deadline,
                                ClientContext* context, google::protobuf::MessageLite* response,
                                bool* reusable, bool* not_processed) {
  for (;;) {
    Frame frame;
    DecodeResult result = DecodeFrame(conn->input.view(), options_.limits, &frame);
    if (result.outcome == DecodeOutcome::kError) {
      *reusable = false;
      return absl::UnavailableError(
          absl::StrCat("bad frame from ", target_, ": ", result.error.message()));
    }
    if (result.outcome == DecodeOutcome::kFrame) {
      conn->input.Consume(result.consumed);
      const Envelope& envelope = frame.envelope;
      if (envelope.kind() == RESPONSE && envelope.call_id() == id) {
        return FinishCallFromResponse(&frame, context, response);
      }
      if (envelope.kind() == GOAWAY) {
        *reusable = false;
        if (id > envelope.last_call_id()) {
          *not_processed = true;
          return NotProcessedError();
        }
      } else if (envelope.kind() == CONNECTION_ERROR) {
        *reusable = false;
        return ConnectionErrorStatus(envelope);
      } else if (IsPingToAnswer(envelope) && !SendPingAck(conn, envelope.ping_data())) {
        *reusable = false;  // part of the ACK may be out: the stream is no longer in step
      }
      continue;  // A late reply to an earlier call that timed out here, or a frame we ignore.
    }
    // Need more bytes: wait for them, at most until the deadline. A busy-poll spin comes first,
    // so that the blocking read's timeout is computed from what is left after it.
    const bool buffered = conn->tls != nullptr && conn->tls->HasBufferedInput();
    if (options_.busy_poll > absl::ZeroDuration() && !buffered) {
      SpinUntilReadable(conn->fd.get(), options_.busy_poll, deadline);
    }
    if (deadline != absl::InfiniteFuture() || conn->receive_timeout != absl::ZeroDuration()) {
      if (deadline != absl::InfiniteFuture() && deadline <= absl::Now()) {
        return absl::DeadlineExceededError("deadline exceeded");
      }
      const timeval tv = SocketTimeout(deadline);
      ::setsockopt(conn->fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
      conn->receive_timeout = absl::DurationFromTimeval(tv);
    }
    int err = 0;
    std::string tls_error;
    const ssize_t n = ReadSome(conn, /*dont_wait=*/false, &err, &tls_error);
    if (n > 0) continue;
    if (n < 0 && err == EINTR) continue;
    if (n < 0 && (err == EAGAIN || err == EWOULDBLOCK)) continue;  // SO_RCVTIMEO: re-check above.
    *reusable = false;
    return absl::UnavailableError(
        absl::StrCat("connection to ", target_, " lost: ",
                     n == 0                ? "closed by peer"
                     : !tls_error.empty() ? absl::string_view(tls_error)
                                          : absl::string_view(std::strerror(err))));
  }
}

bool SyncCalls::SendCancel(Conn* conn, uint64_t id) {
  const std::string frame = CancelFrame(id, options_.limits);
  if (frame.empty()) return true;
  return SendNow(conn, frame);
}

}  // namespace framerpc

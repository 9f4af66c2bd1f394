#include "rpc/server.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>

#include "absl/strings/str_cat.h"
#include "rpc/peer_key.h"
#include "rpc/server_sniffing.h"
#include "rpc/socket_peer_identity.h"
#include "transport/socket_ops.h"
#include "transport/watcher.h"

namespace framerpc {

Server::Server(ServerOptions options)
    : options_(options), dispatcher_(options.limits, options.worker_threads, options.observer),
      stream_slots_(options.max_concurrent_streams) {}

Server::~Server() { Shutdown(absl::ZeroDuration()); }

absl::Status Server::AddService(Service* service, ServiceOptions options) {
  if (started_) return absl::FailedPreconditionError("AddService after Start");
  return dispatcher_.AddService(service, options);
}

absl::Status Server::AddListener(absl::string_view address, ListenerTls tls) {
  if (started_) return absl::FailedPreconditionError("AddListener after Start");
  absl::StatusOr<SocketAddress> parsed = SocketAddress::Parse(address);
  if (!parsed.ok()) return parsed.status();
  absl::StatusOr<ScopedFd> fd = Listen(*parsed, options_.listen_backlog);
  if (!fd.ok()) return fd.status();
  SocketAddress bound = parsed->is_unix() ? *parsed : LocalAddress(fd->get());
  pending_listeners_.emplace_back(*std::move(fd), bound);
  pending_tls_.push_back(tls);
  return absl::OkStatus();
}

void Server::SetTlsContext(std::shared_ptr<TlsContext> context) {
  std::lock_guard<std::mutex> lock(mu_);
  tls_context_ = std::move(context);
}

absl::Status Server::AddForeignProtocol(ForeignProtocol protocol) {
  if (started_) return absl::FailedPreconditionError("AddForeignProtocol after Start");
  if (!protocol.match || !protocol.handler) {
    return absl::InvalidArgumentError("a foreign protocol needs a matcher and a handler");
  }
  foreign_protocols_.push_back(std::move(protocol));
  return absl::OkStatus();
}

absl::Status Server::Start() {
  if (started_) return absl::FailedPreconditionError("server already started");
  if (pending_listeners_.empty() && !in_process_taken_.load(std::memory_order_relaxed)) {
    return absl::FailedPreconditionError(
        "no listener added, nor an in-process connector taken: nothing could reach the server");
  }
  absl::Status busy_poll = ValidateBusyPoll(options_.busy_poll);
  if (!busy_poll.ok()) return busy_poll;
  if (absl::Status timeouts = options_.timeouts.Validate(); !timeouts.ok()) return timeouts;
  for (ListenerTls tls : pending_tls_) {
    std::lock_guard<std::mutex> lock(mu_);
    if (tls != ListenerTls::kOff && (tls_context_ == nullptr || !tls_context_->is_server())) {
      return absl::FailedPreconditionError("a TLS listener needs a server TLS context");
    }
  }
  started_ = true;
  size_t max_connections = options_.max_connections;
  if (max_connections == 0) {
    rlimit files{};
    ::getrlimit(RLIMIT_NOFILE, &files);
    const size_t limit = files.rlim_cur == RLIM_INFINITY ? size_t{1} << 20 : files.rlim_cur;
    const size_t reserve = std::max<size_t>(64, limit / 10);
    max_connections = limit > reserve ? limit - reserve : 1;
  }
  counts_ = std::make_unique<ConnectionCounts>(max_connections, options_.max_connections_per_peer);
  size_t budget = options_.memory_budget_bytes;
  if (budget == 0) {
    budget = static_cast<size_t>(::sysconf(_SC_PHYS_PAGES)) *
             static_cast<size_t>(::sysconf(_SC_PAGESIZE)) / 4;
  }
  memory_budget_ = std::make_unique<ByteBudget>(budget);
  connection_shared_.dispatcher = &dispatcher_;
  connection_shared_.in_flight = &in_flight_;
  connection_shared_.server_streams = &stream_slots_;
  connection_shared_.stats = &stats_;
  connection_shared_.memory_budget = memory_budget_.get();
  connection_shared_.refusals = options_.refusals;
  connection_shared_.on_closed = [this](ServerConnection* closed) {
    // Defer the erase: this runs inside the connection's own call stack.
    closed->connection()->loop()->QueueInLoop([this, closed] { Forget(closed); });
  };
  connection_shared_.on_pause = [this](bool paused) {
    std::lock_guard<std::mutex> lock(mu_);
    paused ? ++paused_connections_ : --paused_connections_;
    connections_changed_.notify_all();
  };
  connection_limits_.max_concurrent_calls = options_.max_concurrent_calls_per_connection;
  connection_limits_.max_concurrent_streams = options_.max_concurrent_streams_per_connection;
  connection_limits_.max_stream_window = options_.max_stream_window_bytes;
  connection_limits_.timeouts = options_.timeouts;
  connection_limits_.stream_stall_timeout = options_.stream_stall_timeout;
  loops_ = std::make_unique<EventLoopThreadPool>(options_.io_threads, options_.busy_poll);
  for (size_t i = 0; i < pending_listeners_.size(); ++i) {
    auto& [fd, address] = pending_listeners_[i];
    Listener listener;
    listener.loop = loops_->Next();
    listener.address = address;
    listener.tls = pending_tls_[i];
    const ListenerTls tls = listener.tls;
    const int family = address.family();
    EventLoop* loop = listener.loop;
    listener.acceptor = std::make_unique<Acceptor>(
        listener.loop, std::move(fd), family,
        [this, loop, tls](ScopedFd conn_fd, const SocketAddress& peer) {
          OnAccepted(loop, tls, std::move(conn_fd), peer);
        });
    Acceptor* acceptor = listener.acceptor.get();
    listener.loop->RunInLoop([acceptor] { acceptor->Start(); });
    listeners_.push_back(std::move(listener));
  }
  pending_listeners_.clear();
  pending_tls_.clear();
  in_process_->Open([this] { return AcceptInProcess(); });
  return absl::OkStatus();
}

std::string Server::listen_address(size_t i) const {
  if (i < listeners_.size()) return listeners_[i].address.ToString();
  if (i < pending_listeners_.size()) return pending_listeners_[i].second.ToString();
  return "";
}

int Server::listen_port(size_t i) const {
  if (i < listeners_.size()) return listeners_[i].address.port();
  if (i < pending_listeners_.size()) return pending_listeners_[i].second.port();
  return 0;
}

size_t Server::connection_count() const {
  std::unique_lock<std::mutex> lock(mu_);
  return connections_.size();
}

bool Server::WaitForConnectionCount(size_t n, absl::Time deadline) const {
  std::unique_lock<std::mutex> lock(mu_);
  return connections_changed_.wait_until(lock, ToChronoDeadline(deadline),
                                         [this, n] { return connections_.size() == n; });
}

size_t Server::paused_connection_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return paused_connections_;
}

bool Server::WaitForPausedConnectionCount(size_t n, absl::Time deadline) const {
  std::unique_lock<std::mutex> lock(mu_);
  return connections_changed_.wait_until(lock, ToChronoDeadline(deadline),
                                         [this, n] { return paused_connections_ == n; });
}

size_t Server::QueuedOutputBytes() {
  std::atomic<size_t> total{0};
  ForEachConnection([&total](ServerConnection* c) {
    total += c->connection()->queued_output_bytes();
  });
  return total.load();
}

void Server::OnAccepted(EventLoop* loop, ListenerTls tls, ScopedFd fd,
                        const SocketAddress& peer) {
  stats_.OnAccepted();
  Accepted accepted{peer, SocketPeerIdentity(fd.get(), peer), "", 0};
  accepted.peer_key = PeerKey(peer, accepted.identity);
  const ConnectionCounts::Verdict verdict = counts_->TryAdmit(accepted.peer_key);
  if (verdict != ConnectionCounts::Verdict::kAdmit &&
      !ShedOldestIdle(verdict, accepted.peer_key)) {
    return Refuse(loop, std::move(fd), peer, verdict, accepted.peer_key);
  }
  accepted.seq = next_seq_.fetch_add(1, std::memory_order_relaxed);
  if (foreign_protocols_.empty() && tls == ListenerTls::kOff) {
    return OnNewConnection(std::move(fd), std::move(accepted));
  }
  auto sniffing = std::make_shared<Sniffing>();
  sniffing->loop = loop;
  sniffing->tls = tls;
  sniffing->accepted = std::move(accepted);
  sniffing->watcher = std::make_unique<Watcher>(loop, fd.get());
  sniffing->fd = std::move(fd);
  Sniffing* key = sniffing.get();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shut_down_) {
      counts_->Remove(sniffing->accepted.peer_key);
      return;  // Closes the fd.
    }
    sniffing_.emplace(key, sniffing);
  }
  sniffing->watcher->set_read_callback([this, key] { OnFirstBytes(key); });
  sniffing->watcher->set_error_callback([this, key] {
    if (key->watcher->registration_error().ok()) return OnFirstBytes(key);
    // epoll would not watch it: it can never be read.
    if (std::shared_ptr<Sniffing> refused = StopSniffing(key)) {
      counts_->Remove(refused->accepted.peer_key);
      stats_.OnClosed(CloseReason::kReset);
    }
  });
  sniffing->watcher->EnableReading();
  // A connection that never says which protocol it speaks holds an fd: not for long.
  sniffing->first_byte_timer =
      loop->RunAfter(options_.timeouts.first_byte, [this, key] { OnSniffTimeout(key); });
}

std::shared_ptr<Server::Sniffing> Server::StopSniffing(Sniffing* key) {
  std::shared_ptr<Sniffing> sniffing;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = sniffing_.find(key);
    if (it == sniffing_.end()) return nullptr;
    sniffing = std::move(it->second);
    sniffing_.erase(it);
  }
  sniffing->watcher->Remove();
  for (TimerId* timer :
       {&sniffing->first_byte_timer, &sniffing->retry_timer, &sniffing->handshake_timer}) {
    if (*timer != 0) sniffing->loop->CancelTimer(*timer);
    *timer = 0;
  }
  // The watcher may be inside its own callback: destroy it (and close an fd not handed over)
  // from a later task.
  sniffing->loop->QueueInLoop([sniffing] {});
  return sniffing;
}

void Server::OnSniffTimeout(Sniffing* key) {
  key->first_byte_timer = 0;
  if (std::shared_ptr<Sniffing> sniffing = StopSniffing(key)) {
    counts_->Remove(sniffing->accepted.peer_key);
    stats_.OnClosed(CloseReason::kFirstByteTimeout);
    Refused(RefusalKind::kTimeout, sniffing->accepted.peer, "first byte timeout");
  }
}

void Server::OnFirstBytes(Sniffing* key) {
  char first[kMaxSniffBytes];
  const ssize_t n = ::recv(key->fd.get(), first, sizeof first, MSG_PEEK);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
  if (n <= 0) {  // Closed (or failed) before saying anything.
    if (std::shared_ptr<Sniffing> sniffing = StopSniffing(key)) {
      counts_->Remove(sniffing->accepted.peer_key);
      stats_.OnClosed(n == 0 ? CloseReason::kPeerClosed : CloseReason::kReset);
    }
    return;
  }
  const absl::string_view bytes(first, static_cast<size_t>(n));
  constexpr char kTlsHandshakeRecord = 0x16;  // a ClientHello's record type
  if (key->tls != ListenerTls::kOff && bytes.front() == kTlsHandshakeRecord) {
    return StartHandshake(key);
  }
  if (key->tls == ListenerTls::kRequired) return RefusePlaintext(key, bytes.front());
  if (bytes.front() == kFrameMagic[0]) {
    std::shared_ptr<Sniffing> sniffing = StopSniffing(key);
    if (sniffing != nullptr) {
      OnNewConnection(std::move(sniffing->fd), std::move(sniffing->accepted));
    }
    return;
  }
  bool need_more = false;
  for (const ForeignProtocol& protocol : foreign_protocols_) {
    const ProtocolMatch match = protocol.match(bytes);
    if (match == ProtocolMatch::kMatch) {
      std::shared_ptr<Sniffing> sniffing = StopSniffing(key);
      if (sniffing == nullptr) return;
      // From here on the connection is the other protocol's; it no longer counts here.
      counts_->Remove(sniffing->accepted.peer_key);
      protocol.handler(std::move(sniffing->fd), sniffing->accepted.peer);
      return;
    }
    need_more = need_more || match == ProtocolMatch::kNeedMore;
  }
  if (!need_more || static_cast<size_t>(n) == kMaxSniffBytes) {
    if (std::shared_ptr<Sniffing> sniffing = StopSniffing(key)) {
      counts_->Remove(sniffing->accepted.peer_key);
      stats_.OnClosed(CloseReason::kGarbage);
      Refused(RefusalKind::kGarbage, sniffing->accepted.peer,
              bytes.front() == kTlsHandshakeRecord
                  ? "a TLS ClientHello on a plaintext listener"
                  : "the first bytes open no protocol served here");
    }
    return;
  }
  // A prefix: the bytes stay in the socket (peeked), so its readiness would fire again at once.
  // Look again a little later, backing off, until the first-byte timeout ends the wait.
  key->watcher->DisableReading();
  key->retry_timer = key->loop->RunAfter(key->retry_delay, [key] {
    key->retry_timer = 0;
    key->watcher->EnableReading();
  });
  key->retry_delay = std::min(key->retry_delay * 2, absl::Milliseconds(50));
}

void Server::OnNewConnection(ScopedFd fd, Accepted accepted,
                             std::unique_ptr<RecordLayer> record_layer) {
  EventLoop* loop = loops_->Next();
  ConnectionOptions conn_options;
  conn_options.output_high_water_bytes = options_.output_high_water_bytes;
  conn_options.output_budget = memory_budget_.get();
  auto connection =
      std::make_shared<Connection>(loop, std::move(fd), accepted.peer, conn_options);
  if (record_layer != nullptr) connection->set_record_layer(std::move(record_layer));
  auto server_connection = std::make_shared<ServerConnection>(
      connection, connection_shared_, connection_limits_, accepted.identity, accepted.seq);
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (shut_down_) {
      counts_->Remove(accepted.peer_key);
      return;  // Closes the fd.
    }
    connections_.insert(server_connection);
    connections_changed_.notify_all();
  }
  loop->RunInLoop([this, server_connection] {
    server_connection->Start();
  });
}

void Server::Forget(ServerConnection* closed) {
  std::unique_lock<std::mutex> lock(mu_);
  auto it = connections_.find(closed);
  if (it == connections_.end()) return;
  counts_->Remove(PeerKey(closed->connection()->peer(), closed->peer_identity()));
  connections_.erase(it);
  connections_changed_.notify_all();
}

bool Server::ShedOldestIdle(ConnectionCounts::Verdict verdict, const std::string& peer_key) {
  const bool per_peer = verdict == ConnectionCounts::Verdict::kOverPeer;
  std::shared_ptr<ServerConnection> connection;
  std::shared_ptr<Sniffing> sniffing;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shut_down_) return false;
    uint64_t oldest = UINT64_MAX;
    const std::shared_ptr<ServerConnection>* victim = nullptr;
    for (const std::shared_ptr<ServerConnection>& tracked : connections_) {
      if (tracked->shedding() || tracked->seq() >= oldest || !tracked->idle()) continue;
      if (per_peer &&
          PeerKey(tracked->connection()->peer(), tracked->peer_identity()) != peer_key) {
        continue;
      }
      oldest = tracked->seq();
      victim = &tracked;
    }
    Sniffing* silent = nullptr;
    for (auto& [key, entry] : sniffing_) {  // not yet said anything: idle too
      if (entry->shedding || entry->accepted.seq >= oldest) continue;
      if (per_peer && entry->accepted.peer_key != peer_key) continue;
      oldest = entry->accepted.seq;
      silent = key;
    }
    if (silent != nullptr) {
      sniffing = sniffing_[silent];
      sniffing->shedding = true;
    } else if (victim != nullptr) {
      connection = *victim;
      connection->set_shedding();
    } else {
      return false;
    }
  }
  counts_->Add(peer_key);
  if (sniffing != nullptr) {
    Sniffing* key = sniffing.get();
    sniffing->loop->RunInLoop([this, key] {
      if (std::shared_ptr<Sniffing> shed = StopSniffing(key)) {
        counts_->Remove(shed->accepted.peer_key);
        stats_.OnClosed(CloseReason::kLimit);
        Refused(RefusalKind::kLimit, shed->accepted.peer,
                "closed to make room at a connection limit");
      }
    });
  } else {
    connection->connection()->loop()->RunInLoop([connection] { connection->CloseForLimit(); });
  }
  return true;
}

void Server::Refuse(EventLoop* loop, ScopedFd fd, const SocketAddress& peer,
                    ConnectionCounts::Verdict verdict, const std::string& peer_key) {
  stats_.OnClosed(CloseReason::kLimit);
  const absl::Status refusal = LimitRefusal(verdict, peer_key);
  Envelope envelope;
  envelope.set_kind(CONNECTION_ERROR);
  envelope.set_status_code(static_cast<int>(refusal.code()));
  envelope.set_status_message(std::string(refusal.message()));
  std::string frame;
  EncodeFrame(std::move(envelope), nullptr, {}, options_.limits, &frame).IgnoreError();
  Refused(RefusalKind::kLimit, peer, refusal.ToString());
  CloseGracefully(loop, std::move(fd), peer, std::move(frame), refusal, absl::Milliseconds(250));
}

absl::Status Server::LimitRefusal(ConnectionCounts::Verdict verdict,
                                  const std::string& peer_key) const {
  return absl::ResourceExhaustedError(
      verdict == ConnectionCounts::Verdict::kOverPeer
          ? absl::StrCat("too many connections from ", peer_key, " (limit ",
                         counts_->max_per_peer(), "), none of them idle; retry later")
          : absl::StrCat("the server is at its limit of ", counts_->max_total(),
                         " connections, none of them idle; retry later"));
}

void Server::CloseGracefully(EventLoop* loop, ScopedFd fd, const SocketAddress& peer,
                             std::string bytes, absl::Status reason, absl::Duration linger) {
  // A Connection writes the bytes and closes gracefully (reading what the client sent, so that
  // no reset destroys them), briefly; it is kept here until then.
  auto connection = std::make_shared<Connection>(loop, std::move(fd), peer, ConnectionOptions{});
  Connection* key = connection.get();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shut_down_) return;
    refusing_.emplace(key, connection);
  }
  connection->set_data_callback([](const ConnectionPtr&, Buffer* buffer) {
    buffer->Consume(buffer->readable_bytes());
  });
  connection->set_close_callback([this, key](const ConnectionPtr&, const absl::Status&) {
    key->loop()->QueueInLoop([this, key] {
      std::lock_guard<std::mutex> lock(mu_);
      refusing_.erase(key);
    });
  });
  connection->Start();
  connection->SendAndClose(std::move(bytes), std::move(reason), linger);
}

namespace {

// What the loops reported, shared with their tasks, which may run after the caller stopped
// waiting.
template <typename T>
struct Gathered {
  std::mutex mu;
  std::condition_variable cv;
  size_t remaining;  // guarded by mu
  std::vector<T> items;  // guarded by mu
};

}  // namespace

template <typename T, typename Describe>
std::vector<T> Server::GatherFromConnections(absl::Duration wait, size_t* unanswered,
                                             Describe describe) {
  std::vector<std::shared_ptr<ServerConnection>> snapshot;
  {
    std::unique_lock<std::mutex> lock(mu_);
    snapshot.assign(connections_.begin(), connections_.end());
  }
  auto gathered = std::make_shared<Gathered<T>>();
  gathered->remaining = snapshot.size();
  for (const auto& conn : snapshot) {
    conn->connection()->loop()->RunInLoop([gathered, conn, describe] {
      std::vector<T> found;
      describe(*conn, absl::Now(), &found);
      std::lock_guard<std::mutex> lock(gathered->mu);
      for (T& item : found) gathered->items.push_back(std::move(item));
      if (--gathered->remaining == 0) gathered->cv.notify_all();
    });
  }
  std::unique_lock<std::mutex> lock(gathered->mu);
  gathered->cv.wait_for(lock, absl::ToChronoNanoseconds(wait),
                        [&] { return gathered->remaining == 0; });
  if (unanswered != nullptr) *unanswered = gathered->remaining;
  return std::move(gathered->items);
}

std::vector<ConnectionInfo> Server::Connections(absl::Duration wait, size_t* unanswered) {
  return GatherFromConnections<ConnectionInfo>(
      wait, unanswered,
      [](const ServerConnection& c, absl::Time now, std::vector<ConnectionInfo>* out) {
        out->push_back(c.Describe(now));
      });
}

std::vector<InFlightCall> Server::CallsInFlight(absl::Duration wait, size_t* unanswered) {
  return GatherFromConnections<InFlightCall>(
      wait, unanswered,
      [](const ServerConnection& c, absl::Time now, std::vector<InFlightCall>* out) {
        c.DescribeCalls(now, out);
      });
}

void Server::Refused(RefusalKind kind, const SocketAddress& peer, absl::string_view reason) const {
  if (options_.refusals != nullptr) options_.refusals->OnRefusal(kind, peer.ToString(), reason);
}

void Server::ForEachConnection(const std::function<void(ServerConnection*)>& fn) {
  std::vector<std::shared_ptr<ServerConnection>> snapshot;
  {
    std::unique_lock<std::mutex> lock(mu_);
    snapshot.assign(connections_.begin(), connections_.end());
  }
  BlockingCounter done(static_cast<int>(snapshot.size()));
  for (const auto& conn : snapshot) {
    conn->connection()->loop()->RunInLoop([&fn, &done, conn] {
      fn(conn.get());
      done.DecrementCount();
    });
  }
  done.Wait();
}

void Server::Shutdown(absl::Duration grace) {
  in_process_->Close();  // first: no in-process connection is accepted from here on
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (shut_down_) return;
    shut_down_ = true;
  }
  if (!started_) return;
  const absl::Time deadline = absl::Now() + grace;
  // 1. Stop accepting.
  for (Listener& listener : listeners_) {
    Acceptor* acceptor = listener.acceptor.get();
    listener.loop->RunInLoopAndWait([acceptor] { acceptor->Close(); });
  }
  // Connections still waiting for their first byte are closed.
  std::vector<std::shared_ptr<Sniffing>> sniffing;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [key, entry] : sniffing_) sniffing.push_back(std::move(entry));
    sniffing_.clear();
  }
  for (const std::shared_ptr<Sniffing>& entry : sniffing) {
    entry->loop->RunInLoopAndWait([&entry] {
      entry->watcher->Remove();
      if (entry->first_byte_timer != 0) entry->loop->CancelTimer(entry->first_byte_timer);
      if (entry->handshake_timer != 0) entry->loop->CancelTimer(entry->handshake_timer);
      if (entry->retry_timer != 0) entry->loop->CancelTimer(entry->retry_timer);
    });
    stats_.OnClosed(CloseReason::kShutdown);
  }
  sniffing.clear();
  shutdown_started_.Notify();
  // 2. Tell clients, and let calls in flight finish.
  ForEachConnection([](ServerConnection* c) {
    c->MarkShuttingDown();
    c->BeginDrain();
  });
  if (!in_flight_.WaitForZero(deadline)) {
    // The grace is over: the calls still open get a status of their own rather than a dropped
    // connection, and their handlers are cancelled.
    ForEachConnection([](ServerConnection* c) {
      c->EndOpenCalls(absl::UnavailableError("server shutting down"));
    });
  }
  // 3. Close: queued replies are written first. A connection with nothing unread closes right
  //    away; one whose client sent more lingers (discarding it) until the client closes, up to
  //    what is left of the grace period, so that a reset cannot destroy replies in flight.
  const absl::Duration linger = std::max(deadline - absl::Now(), absl::Milliseconds(100));
  ForEachConnection([linger](ServerConnection* c) {
    c->connection()->SendAndClose("", absl::UnavailableError("server shut down"), linger);
  });
  {
    std::unique_lock<std::mutex> lock(mu_);
    connections_changed_.wait_until(lock, ToChronoDeadline(absl::Now() + linger),
                                    [this] { return connections_.empty(); });
  }
  ForEachConnection([](ServerConnection* c) {
    c->connection()->ForceClose(absl::UnavailableError("server shut down"));
  });
  dispatcher_.StopWorkers();
  loops_->Stop();
  {
    std::lock_guard<std::mutex> lock(mu_);
    refusing_.clear();
  }
  for (Listener& listener : listeners_) listener.acceptor.reset();
  std::unique_lock<std::mutex> lock(mu_);
  connections_.clear();
}

}  // namespace framerpc

#include "rpc/server.h"

#include <sys/socket.h>

#include <atomic>
#include <cerrno>

#include "absl/strings/str_cat.h"
#include "rpc/socket_peer_identity.h"
#include "transport/socket_ops.h"
#include "transport/watcher.h"

namespace framerpc {

Server::Server(ServerOptions options)
    : options_(options), dispatcher_(options.limits, options.worker_threads),
      stream_slots_(options.max_concurrent_streams) {}

Server::~Server() { Shutdown(absl::ZeroDuration()); }

absl::Status Server::AddService(Service* service, ServiceOptions options) {
  if (started_) return absl::FailedPreconditionError("AddService after Start");
  return dispatcher_.AddService(service, options);
}

absl::Status Server::AddListener(absl::string_view address) {
  if (started_) return absl::FailedPreconditionError("AddListener after Start");
  absl::StatusOr<SocketAddress> parsed = SocketAddress::Parse(address);
  if (!parsed.ok()) return parsed.status();
  absl::StatusOr<ScopedFd> fd = Listen(*parsed, options_.listen_backlog);
  if (!fd.ok()) return fd.status();
  SocketAddress bound = parsed->is_unix() ? *parsed : LocalAddress(fd->get());
  pending_listeners_.emplace_back(*std::move(fd), bound);
  return absl::OkStatus();
}

struct Server::Sniffing {
  EventLoop* loop;
  ScopedFd fd;
  SocketAddress peer;
  std::unique_ptr<Watcher> watcher;
};

absl::Status Server::SetForeignConnectionHandler(ForeignConnectionHandler handler) {
  if (started_) return absl::FailedPreconditionError("SetForeignConnectionHandler after Start");
  foreign_handler_ = std::move(handler);
  return absl::OkStatus();
}

absl::Status Server::Start() {
  if (started_) return absl::FailedPreconditionError("server already started");
  if (pending_listeners_.empty()) return absl::FailedPreconditionError("no listener added");
  absl::Status busy_poll = ValidateBusyPoll(options_.busy_poll);
  if (!busy_poll.ok()) return busy_poll;
  started_ = true;
  loops_ = std::make_unique<EventLoopThreadPool>(options_.io_threads, options_.busy_poll);
  for (auto& [fd, address] : pending_listeners_) {
    Listener listener;
    listener.loop = loops_->Next();
    listener.address = address;
    const int family = address.family();
    EventLoop* loop = listener.loop;
    listener.acceptor = std::make_unique<Acceptor>(
        listener.loop, std::move(fd), family,
        [this, loop](ScopedFd conn_fd, const SocketAddress& peer) {
          OnAccepted(loop, std::move(conn_fd), peer);
        });
    Acceptor* acceptor = listener.acceptor.get();
    listener.loop->RunInLoop([acceptor] { acceptor->Start(); });
    listeners_.push_back(std::move(listener));
  }
  pending_listeners_.clear();
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

void Server::OnAccepted(EventLoop* loop, ScopedFd fd, const SocketAddress& peer) {
  if (!foreign_handler_) return OnNewConnection(std::move(fd), peer);
  auto sniffing = std::make_shared<Sniffing>();
  sniffing->loop = loop;
  sniffing->peer = peer;
  sniffing->watcher = std::make_unique<Watcher>(loop, fd.get());
  sniffing->fd = std::move(fd);
  Sniffing* key = sniffing.get();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shut_down_) return;  // Closes the fd.
    sniffing_.emplace(key, sniffing);
  }
  sniffing->watcher->set_read_callback([this, key] { OnFirstByte(key); });
  sniffing->watcher->set_error_callback([this, key] { OnFirstByte(key); });
  sniffing->watcher->EnableReading();
}

void Server::OnFirstByte(Sniffing* key) {
  char first = 0;
  const ssize_t n = ::recv(key->fd.get(), &first, 1, MSG_PEEK);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
  key->watcher->Remove();
  std::shared_ptr<Sniffing> sniffing;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = sniffing_.find(key);
    if (it == sniffing_.end()) return;
    sniffing = std::move(it->second);
    sniffing_.erase(it);
  }
  ScopedFd fd = std::move(sniffing->fd);
  // The watcher is inside its own callback: destroy it from a later task.
  key->loop->QueueInLoop([sniffing] {});
  if (n != 1) return;  // Closed (or failed) before saying anything.
  if (first == kFrameMagic[0]) {
    OnNewConnection(std::move(fd), sniffing->peer);
  } else {
    foreign_handler_(std::move(fd), sniffing->peer);
  }
}

void Server::OnNewConnection(ScopedFd fd, const SocketAddress& peer) {
  EventLoop* loop = loops_->Next();
  const PeerIdentity identity = SocketPeerIdentity(fd.get(), peer);
  ConnectionOptions conn_options;
  conn_options.output_high_water_bytes = options_.output_high_water_bytes;
  auto connection = std::make_shared<Connection>(loop, std::move(fd), peer, conn_options);
  auto server_connection = std::make_shared<ServerConnection>(
      connection, &dispatcher_, &in_flight_, options_.max_concurrent_calls_per_connection,
      options_.max_concurrent_streams_per_connection, options_.max_stream_window_bytes,
      &stream_slots_, [this](bool paused) {
        std::lock_guard<std::mutex> lock(mu_);
        paused ? ++paused_connections_ : --paused_connections_;
        connections_changed_.notify_all();
      },
      identity);
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (shut_down_) return;  // Closes the fd.
    connections_.emplace(server_connection.get(), server_connection);
    connections_changed_.notify_all();
  }
  loop->RunInLoop([this, server_connection] {
    ServerConnection* key = server_connection.get();
    server_connection->Start([this, key] {
      // Defer the erase: this callback runs inside the connection's own call stack.
      key->connection()->loop()->QueueInLoop([this, key] {
        std::unique_lock<std::mutex> lock(mu_);
        connections_.erase(key);
        connections_changed_.notify_all();
      });
    });
  });
}

void Server::ForEachConnection(const std::function<void(ServerConnection*)>& fn) {
  std::vector<std::shared_ptr<ServerConnection>> snapshot;
  {
    std::unique_lock<std::mutex> lock(mu_);
    for (const auto& [key, conn] : connections_) snapshot.push_back(conn);
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
    entry->loop->RunInLoopAndWait([&entry] { entry->watcher->Remove(); });
  }
  sniffing.clear();
  shutdown_started_.Notify();
  // 2. Tell clients, and let calls in flight finish.
  ForEachConnection([](ServerConnection* c) { c->BeginDrain(); });
  in_flight_.WaitForZero(deadline);
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
  for (Listener& listener : listeners_) listener.acceptor.reset();
  std::unique_lock<std::mutex> lock(mu_);
  connections_.clear();
}

}  // namespace framerpc

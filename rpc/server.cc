#include "rpc/server.h"

#include <atomic>

#include "absl/strings/str_cat.h"
#include "transport/socket_ops.h"

namespace framerpc {

Server::Server(ServerOptions options)
    : options_(options), dispatcher_(options.limits, options.worker_threads) {}

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

absl::Status Server::Start() {
  if (started_) return absl::FailedPreconditionError("server already started");
  if (pending_listeners_.empty()) return absl::FailedPreconditionError("no listener added");
  started_ = true;
  loops_ = std::make_unique<EventLoopThreadPool>(options_.io_threads);
  for (auto& [fd, address] : pending_listeners_) {
    Listener listener;
    listener.loop = loops_->Next();
    listener.address = address;
    const int family = address.family();
    listener.acceptor = std::make_unique<Acceptor>(
        listener.loop, std::move(fd), family,
        [this](ScopedFd conn_fd, const SocketAddress& peer) {
          OnNewConnection(std::move(conn_fd), peer);
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

void Server::OnNewConnection(ScopedFd fd, const SocketAddress& peer) {
  EventLoop* loop = loops_->Next();
  ConnectionOptions conn_options;
  conn_options.output_high_water_bytes = options_.output_high_water_bytes;
  auto connection = std::make_shared<Connection>(loop, std::move(fd), peer, conn_options);
  auto server_connection = std::make_shared<ServerConnection>(
      connection, &dispatcher_, &in_flight_, options_.max_concurrent_calls_per_connection,
      options_.max_concurrent_streams_per_connection, [this](bool paused) {
        std::lock_guard<std::mutex> lock(mu_);
        paused ? ++paused_connections_ : --paused_connections_;
        connections_changed_.notify_all();
      });
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

#include "admin/admin_http.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "admin/http_request.h"
#include "rpc/socket_peer_identity.h"
#include "transport/socket_ops.h"

namespace framerpc::admin {

struct AdminHttpServer::Pending {
  ConnectionPtr connection;  // the owner's reference
  PeerIdentity identity;
  TimerId head_timer = 0;
  bool answered = false;  // a response (or refusal) is on its way; input is ignored from then
};

Server::ProtocolMatch MatchHttp1(absl::string_view first_bytes) {
  for (const absl::string_view opening : {absl::string_view("GET "), absl::string_view("HEAD ")}) {
    const size_t n = std::min(first_bytes.size(), opening.size());
    if (first_bytes.substr(0, n) != opening.substr(0, n)) continue;
    return n == opening.size() ? Server::ProtocolMatch::kMatch : Server::ProtocolMatch::kNeedMore;
  }
  return Server::ProtocolMatch::kNoMatch;
}

AdminHttpServer::AdminHttpServer(const AdminPages* pages, AdminHttpOptions options)
    : pages_(pages),
      options_(options),
      loop_thread_(std::make_unique<EventLoopThread>()),
      renderer_(std::make_unique<WorkerPool>(1)) {}

AdminHttpServer::~AdminHttpServer() {
  EventLoop* loop = loop_thread_->loop();
  loop->RunInLoopAndWait([this] {
    if (acceptor_ != nullptr) acceptor_->Close();
    acceptor_.reset();
    // Closing runs each close callback, which erases from pending_: close a copy.
    std::vector<ConnectionPtr> open;
    for (auto& [raw, pending] : pending_) open.push_back(pending->connection);
    for (const ConnectionPtr& c : open) c->ForceClose(absl::CancelledError("admin server stopping"));
  });
  // Pages still rendering send into closed connections (dropped), then the threads end.
  renderer_->Stop();
  loop_thread_->Stop();
  pending_.clear();
}

absl::Status AdminHttpServer::Listen(const std::string& address) {
  if (acceptor_ != nullptr) return absl::FailedPreconditionError("the admin server listens once");
  absl::StatusOr<SocketAddress> parsed = SocketAddress::Parse(address);
  if (!parsed.ok()) return parsed.status();
  absl::StatusOr<ScopedFd> fd = framerpc::Listen(*parsed, 64);
  if (!fd.ok()) {
    return absl::Status(fd.status().code(),
                        absl::StrCat("admin listener ", address, ": ", fd.status().message()));
  }
  const int family = parsed->family();
  EventLoop* loop = loop_thread_->loop();
  loop->RunInLoopAndWait([&] {
    acceptor_ = std::make_unique<Acceptor>(
        loop, std::move(*fd), family,
        [this](ScopedFd conn_fd, const SocketAddress& peer) { Serve(std::move(conn_fd), peer); });
    acceptor_->Start();
    listen_address_ = acceptor_->local_address().ToString();
  });
  return absl::OkStatus();
}

void AdminHttpServer::Adopt(ScopedFd fd, const SocketAddress& peer) {
  // A ScopedFd cannot ride in a copyable std::function: carry the raw fd and re-own it.
  const int raw = fd.release();
  loop_thread_->loop()->QueueInLoop([this, raw, peer] { Serve(ScopedFd(raw), peer); });
}

void AdminHttpServer::Serve(ScopedFd fd, const SocketAddress& peer) {
  auto pending = std::make_unique<Pending>();
  pending->identity = SocketPeerIdentity(fd.get(), peer);
  ConnectionOptions connection_options;
  connection_options.max_read_bytes = kMaxHeadBytes;
  auto connection = std::make_shared<Connection>(loop_thread_->loop(), std::move(fd), peer,
                                                 connection_options);
  connection->set_data_callback(
      [this](const ConnectionPtr& c, Buffer* buffer) { OnInput(c, buffer); });
  connection->set_close_callback([this](const ConnectionPtr& c, const absl::Status&) {
    auto it = pending_.find(c.get());
    if (it == pending_.end()) return;
    loop_thread_->loop()->CancelTimer(it->second->head_timer);
    pending_.erase(it);
    open_.fetch_sub(1, std::memory_order_relaxed);
  });
  pending->connection = connection;
  const bool over_limit = pending_.size() >= options_.max_connections;
  Pending* state = pending.get();
  pending_.emplace(connection.get(), std::move(pending));
  open_.fetch_add(1, std::memory_order_relaxed);
  connection->Start();
  if (over_limit) {
    Refuse(connection, 503, "too many admin connections; try again");
    return;
  }
  std::weak_ptr<Connection> weak = connection;
  state->head_timer = loop_thread_->loop()->RunAfter(options_.head_timeout, [this, weak] {
    ConnectionPtr c = weak.lock();
    if (c == nullptr) return;
    auto it = pending_.find(c.get());
    if (it == pending_.end() || it->second->answered) return;
    Refuse(c, 408, "the request head did not arrive in time");
  });
}

void AdminHttpServer::OnInput(const ConnectionPtr& connection, Buffer* buffer) {
  auto it = pending_.find(connection.get());
  if (it == pending_.end() || it->second->answered) {
    buffer->Consume(buffer->readable_bytes());
    return;
  }
  HttpRequest request;
  const ParseResult parsed = ParseHttpRequest(buffer->view(), &request);
  switch (parsed.outcome) {
    case ParseOutcome::kNeedMore:
      return;
    case ParseOutcome::kError:
      Refuse(connection, parsed.http_status, parsed.error);
      return;
    case ParseOutcome::kRequest:
      break;
  }
  buffer->Consume(buffer->readable_bytes());
  Pending& pending = *it->second;
  pending.answered = true;
  loop_thread_->loop()->CancelTimer(pending.head_timer);
  renderer_->Submit([this, connection, request = std::move(request),
                     identity = pending.identity] {
    const HttpResponse response = pages_->Handle(request, identity);
    if (response.status >= 400) refused_.fetch_add(1, std::memory_order_relaxed);
    connection->SendAndClose(SerializeResponse(response, request.method == "HEAD"),
                             absl::OkStatus(), absl::Seconds(1));
  });
}

void AdminHttpServer::Refuse(const ConnectionPtr& connection, int status, absl::string_view why) {
  auto it = pending_.find(connection.get());
  if (it != pending_.end()) {
    it->second->answered = true;
    loop_thread_->loop()->CancelTimer(it->second->head_timer);
  }
  refused_.fetch_add(1, std::memory_order_relaxed);
  HttpResponse response;
  response.status = status;
  response.body = absl::StrCat(why, "\n");
  connection->SendAndClose(SerializeResponse(response, false),
                           absl::ResourceExhaustedError(std::string(why)), absl::Seconds(1));
}

}  // namespace framerpc::admin

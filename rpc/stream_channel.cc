#include "rpc/stream_channel.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "rpc/call_access.h"
#include "rpc/call_admission.h"
#include "rpc/client_handshake.h"
#include "rpc/client_frames.h"
#include "rpc/client_keepalive.h"
#include "rpc/client_stream.h"
#include "rpc/stream_route.h"
#include "rpc/sync_calls.h"
#include "transport/connection.h"
#include "transport/event_loop_thread.h"
#include "transport/frame_reader.h"
#include "transport/socket_ops.h"

namespace framerpc {
namespace {

// One connection attempt and, once connected, the connection. Loop thread only.
struct ClientConn {
  ConnectionPtr connection;             // null until connected
  ScopedFd connecting_fd;               // while a non-blocking connect is in progress
  std::unique_ptr<Watcher> connect_watcher;
  TimerId connect_timer = 0;
  std::unique_ptr<ClientHandshake> handshake;  // TLS, between the connect and `connection`
  // Frames written once connected, by call id; those of calls that end before then are dropped.
  // `admitted`: the bytes CallAdmission counts for it (a REQUEST's), released when it leaves.
  struct Queued {
    uint64_t id;
    std::string frame;
    size_t admitted;
  };
  std::vector<Queued> queued;
  // The position in `queued` of each call's REQUEST, so that a call that ends before the
  // connection is up gives its bytes back at once.
  absl::flat_hash_map<uint64_t, size_t> queued_request;
  absl::flat_hash_set<uint64_t> call_ids;
  std::unique_ptr<FrameReader> reader;  // of `connection`'s input; made with it
  bool draining = false;                // GOAWAY received: no new calls
  bool closed = false;
  bool above_high_water = false;        // its unsent output is above the high-water mark
  std::unique_ptr<ClientKeepalive> keepalive;  // with ChannelOptions::keepalive_time, once connected
  TimerId keepalive_timer = 0;
};

// The target's host, the name a TLS server is verified against by default: "db.example:443"
// gives "db.example", "[::1]:80" gives "::1". Empty for a Unix socket.
std::string TargetHost(absl::string_view target) {
  if (absl::StartsWith(target, "unix:")) return "";
  if (absl::StartsWith(target, "[")) {
    const size_t end = target.find(']');
    return std::string(target.substr(1, end == absl::string_view::npos ? 0 : end - 1));
  }
  return std::string(target.substr(0, target.rfind(':')));
}

class ChannelImpl final : public Channel, public ClientStreamOwner, public ChannelLoop::Member {
 public:
  // Without hooks.shared_loop the channel makes a loop of its own.
  ChannelImpl(std::string target, SocketAddress address, ChannelOptions options,
              std::shared_ptr<TlsContext> tls, std::shared_ptr<InProcessConnector> in_process,
              EndpointHooks hooks)
      : target_(std::move(target)),
        address_(address),
        options_(options),
        tls_(std::move(tls)),
        in_process_(std::move(in_process)),
        admission_(target_, options_),
        owns_loop_(hooks.shared_loop == nullptr),
        io_(owns_loop_ ? std::make_shared<ChannelLoop>(options.busy_poll)
                       : std::move(hooks.shared_loop)),
        on_goaway_(std::move(hooks.on_goaway)),
        sync_calls_(std::make_unique<SyncCalls>(target_, address_, options_, loop(), tls_,
                                                TargetHost(target_))) {
    io_->Join(this);
  }
  ~ChannelImpl() override;

  // ChannelLoop::Member
  void ShutDown() override;

  void StartCall(absl::string_view method, ClientContext* context,
                 const google::protobuf::MessageLite& request,
                 google::protobuf::MessageLite* response, DoneCallback done) override;
  absl::Status Call(absl::string_view method, ClientContext* context,
                    const google::protobuf::MessageLite& request,
                    google::protobuf::MessageLite* response) override;
  std::unique_ptr<ClientStreamBase> StartStream(absl::string_view method, MethodKind kind,
                                                ClientContext* context,
                                                google::protobuf::MessageLite* response) override;
  void CancelCall(uint64_t call_id) override;
  const std::string& target() const override { return target_; }
  // StartStream, with `end_hook` given to the stream's state (see StartObservedStream).
  std::unique_ptr<ClientStreamBase> StartStream(absl::string_view method, MethodKind kind,
                                                ClientContext* context,
                                                google::protobuf::MessageLite* response,
                                                StreamEndHook end_hook);

 private:
  struct StreamCall {
    std::shared_ptr<ClientStreamState> state;
    std::shared_ptr<StreamRoute> route;
    TimerId deadline_timer = 0;
    ClientConn* conn = nullptr;
  };

  // ClientStreamOwner
  void FailStream(uint64_t id, absl::Status status) override;
  void Post(std::function<void()> task) override { loop()->QueueInLoop(std::move(task)); }

  void StartStreamInLoop(std::shared_ptr<ClientStreamState> state,
                         std::shared_ptr<StreamRoute> route, std::string frame);
  // Sends a frame of stream `id` on its connection (or queues it until connected).
  void SendStreamFrame(uint64_t id, std::string frame);
  void OnStreamFrame(ClientConn* conn, Frame frame, uint32_t body_bytes);
  struct PendingCall {
    ClientContext* context;
    google::protobuf::MessageLite* response;
    DoneCallback done;
    TimerId deadline_timer = 0;
    ClientConn* conn = nullptr;
  };

  EventLoop* loop() const { return io_->loop(); }
  void StartInLoop(uint64_t id, PendingCall call, std::string frame);
  ClientConn* EnsureConnection();
  void OnConnectWritable(ClientConn* conn);
  // An in-process connection: made at once, or failed (with what the server said).
  void ConnectInProcess(ClientConn* conn);
  // TLS: handshakes over the connected `fd` (kept in conn->connecting_fd), then OnConnected.
  void StartHandshake(ClientConn* conn, ScopedFd fd);
  void OnHandshakeDone(ClientConn* conn, absl::Status status);
  void OnConnected(ClientConn* conn, ScopedFd fd,
                   std::unique_ptr<RecordLayer> record_layer = nullptr);
  void OnData(ClientConn* conn, Buffer* buffer);
  void DecodeFrames(ClientConn* conn, Buffer* buffer);
  void OnResponse(ClientConn* conn, Frame frame);
  void OnGoaway(ClientConn* conn, uint64_t last_call_id);
  void CloseConn(ClientConn* conn, const absl::Status& status);
  // ChannelOptions::keepalive_time: pings the server of `conn`, or gives up on it.
  void OnKeepaliveTimer(ClientConn* conn);
  // The watermark of `conn`'s output: admission stops while any connection is above it.
  void SetAboveHighWater(ClientConn* conn, bool above);
  // A call on `conn` has ended; a REQUEST of it still queued is dropped.
  void ForgetCall(ClientConn* conn, uint64_t id);
  // Hands a call's REQUEST to its connection, or queues it until connected.
  void SendRequest(ClientConn* conn, uint64_t id, std::string frame);
  void SendCancel(ClientConn* conn, uint64_t id);
  void Complete(uint64_t id, absl::Status status);
  // Reports the end of a call that is not (or no longer) in calls_.
  static void EndUnstarted(PendingCall* call, absl::Status status);

  const std::string target_;
  const SocketAddress address_;
  const ChannelOptions options_;
  const std::shared_ptr<TlsContext> tls_;  // null: plaintext
  const std::shared_ptr<InProcessConnector> in_process_;  // null: connect to address_
  CallAdmission admission_;
  std::atomic<uint64_t> next_call_id_{1};
  const bool owns_loop_;
  const std::shared_ptr<ChannelLoop> io_;
  const std::function<void()> on_goaway_;  // may be empty
  std::unique_ptr<SyncCalls> sync_calls_;  // destroyed first: its tasks ran before the loop quit

  // Loop thread only.
  absl::flat_hash_map<uint64_t, PendingCall> calls_;
  // Streams that owe their reader a wake-up for messages of the current OnData: woken when the
  // loop is idle (CallStream::OnMessage).
  std::vector<std::shared_ptr<CallStream>> streams_to_wake_;
  absl::flat_hash_map<uint64_t, StreamCall> streams_;
  absl::flat_hash_map<ClientConn*, std::unique_ptr<ClientConn>> conns_;
  ClientConn* current_ = nullptr;
  int connections_above_high_water_ = 0;
};

ChannelImpl::~ChannelImpl() {
  if (!io_->Leave(this)) return;  // the shared loop has stopped: ShutDown() ran then
  ShutDown();
  if (owns_loop_) {
    io_->Stop();
  } else {
    loop()->RunInLoopAndWait([] {});  // the tasks ShutDown() queued have run
  }
}

void ChannelImpl::ShutDown() {
  loop()->RunInLoopAndWait([this] {
    std::vector<uint64_t> ids;
    for (const auto& [id, call] : calls_) ids.push_back(id);
    for (const auto& [id, call] : streams_) ids.push_back(id);
    for (uint64_t id : ids) Complete(id, absl::CancelledError("channel destroyed"));
    std::vector<ClientConn*> conns;
    for (const auto& [key, conn] : conns_) conns.push_back(key);
    for (ClientConn* conn : conns) CloseConn(conn, absl::CancelledError("channel destroyed"));
    sync_calls_->StopWatching();
  });
}

void ChannelImpl::StartCall(absl::string_view method, ClientContext* context,
                            const google::protobuf::MessageLite& request,
                            google::protobuf::MessageLite* response, DoneCallback done) {
  const uint64_t id = next_call_id_.fetch_add(1, std::memory_order_relaxed);
  std::string frame;
  absl::Status encoded = EncodeRequestFrame(id, method, *context, context->deadline(), request,
                                            options_.limits, &frame);
  ClientCallAccess::Bind(context, this, id);  // first: a TryCancel() ends a wait for admission
  if (encoded.ok()) {
    encoded = admission_.Admit(frame.size(), context->deadline(), *context,
                               /*may_wait=*/!loop()->IsInLoopThread());
  }
  PendingCall call{context, response, std::move(done)};
  loop()->RunInLoop([this, id, call = std::move(call), frame = std::move(frame),
                     encoded = std::move(encoded)]() mutable {
    if (!encoded.ok()) {
      EndUnstarted(&call, encoded);
      return;
    }
    StartInLoop(id, std::move(call), std::move(frame));
  });
}

void ChannelImpl::StartInLoop(uint64_t id, PendingCall call, std::string frame) {
  absl::Status unstarted;
  if (call.context->cancel_requested()) {
    unstarted = absl::CancelledError("cancelled before start");
  } else if (call.context->deadline() <= absl::Now()) {
    unstarted = absl::DeadlineExceededError("deadline exceeded before the call started");
  }
  if (!unstarted.ok()) {
    admission_.RequestLeft(frame.size());
    admission_.CallEnded();
    EndUnstarted(&call, std::move(unstarted));
    return;
  }
  const absl::Time deadline = call.context->deadline();
  ClientConn* conn = EnsureConnection();
  call.conn = conn;
  if (deadline != absl::InfiniteFuture()) {
    call.deadline_timer = loop()->RunAt(deadline, [this, id] {
      auto it = calls_.find(id);
      if (it == calls_.end()) return;
      it->second.deadline_timer = 0;
      SendCancel(it->second.conn, id);
      Complete(id, absl::DeadlineExceededError("deadline exceeded"));
    });
  }
  calls_.emplace(id, std::move(call));
  conn->call_ids.insert(id);
  SendRequest(conn, id, std::move(frame));
}

void ChannelImpl::SendRequest(ClientConn* conn, uint64_t id, std::string frame) {
  const size_t bytes = frame.size();
  if (conn->connection) {
    conn->connection->Send(std::move(frame));
    admission_.RequestLeft(bytes);
  } else {
    conn->queued_request[id] = conn->queued.size();
    conn->queued.push_back(ClientConn::Queued{id, std::move(frame), bytes});
  }
}

ClientConn* ChannelImpl::EnsureConnection() {
  if (current_ != nullptr && !current_->draining && !current_->closed) return current_;
  auto owned = std::make_unique<ClientConn>();
  ClientConn* conn = owned.get();
  conns_.emplace(conn, std::move(owned));
  current_ = conn;
  if (in_process_ != nullptr) {
    ConnectInProcess(conn);
    return conn;
  }
  bool in_progress = false;
  absl::StatusOr<ScopedFd> fd = StartConnect(address_, &in_progress);
  if (!fd.ok()) {
    // Fail the calls that will be attached to it once the current task is done.
    absl::Status status = fd.status();
    loop()->QueueInLoop([this, conn, status] { CloseConn(conn, status); });
    return conn;
  }
  if (!in_progress) {
    if (tls_ != nullptr) {
      StartHandshake(conn, *std::move(fd));
    } else {
      OnConnected(conn, *std::move(fd));
    }
    return conn;
  }
  conn->connecting_fd = *std::move(fd);
  conn->connect_watcher = std::make_unique<Watcher>(loop(), conn->connecting_fd.get());
  conn->connect_watcher->set_write_callback([this, conn] { OnConnectWritable(conn); });
  conn->connect_watcher->set_error_callback([this, conn] { OnConnectWritable(conn); });
  conn->connect_watcher->EnableWriting();
  conn->connect_timer = loop()->RunAfter(options_.connect_timeout, [this, conn] {
    conn->connect_timer = 0;
    CloseConn(conn, absl::UnavailableError(absl::StrCat("connect to ", target_, " timed out")));
  });
  return conn;
}

void ChannelImpl::ConnectInProcess(ClientConn* conn) {
  absl::StatusOr<MemoryPipeEnd> end = in_process_->Connect();
  if (!end.ok()) {
    // As a failed connect: the calls attached once the current task is done fail, never sent.
    absl::Status status = end.status();
    loop()->QueueInLoop([this, conn, status] { CloseConn(conn, status); });
    return;
  }
  OnConnected(conn, std::move(end->readiness), std::move(end->layer));
}

void ChannelImpl::OnConnectWritable(ClientConn* conn) {
  // The loop could not watch the socket: no readiness will ever come (and SO_ERROR says nothing).
  absl::Status unwatchable = conn->connect_watcher->registration_error();
  conn->connect_watcher->Remove();
  if (!unwatchable.ok()) {
    CloseConn(conn, absl::UnavailableError(
                        absl::StrCat("connect to ", target_, ": ", unwatchable.message())));
    return;
  }
  absl::Status error = SocketError(conn->connecting_fd.get(), address_);
  if (!error.ok()) {
    CloseConn(conn, error);
    return;
  }
  if (tls_ != nullptr) return StartHandshake(conn, std::move(conn->connecting_fd));
  if (conn->connect_timer != 0) loop()->CancelTimer(conn->connect_timer);
  conn->connect_timer = 0;
  OnConnected(conn, std::move(conn->connecting_fd));
}

void ChannelImpl::StartHandshake(ClientConn* conn, ScopedFd fd) {
  conn->connecting_fd = std::move(fd);
  absl::StatusOr<std::unique_ptr<TlsSession>> session =
      tls_->NewSession(conn->connecting_fd.get(), TargetHost(target_));
  if (!session.ok()) {
    CloseConn(conn, session.status());
    return;
  }
  if (conn->connect_timer == 0) {  // connected at once: the handshake still gets a deadline
    conn->connect_timer = loop()->RunAfter(options_.connect_timeout, [this, conn] {
      conn->connect_timer = 0;
      CloseConn(conn, absl::UnavailableError(
                          absl::StrCat("TLS handshake with ", target_, " timed out")));
    });
  }
  conn->handshake = std::make_unique<ClientHandshake>(
      loop(), conn->connecting_fd.get(), *std::move(session),
      [this, conn](absl::Status status) { OnHandshakeDone(conn, std::move(status)); });
  conn->handshake->Start();
}

void ChannelImpl::OnHandshakeDone(ClientConn* conn, absl::Status status) {
  std::unique_ptr<TlsSession> session = conn->handshake->TakeSession();
  // Destroyed later: its watcher's callback is running.
  loop()->QueueInLoop([handshake = std::shared_ptr<ClientHandshake>(std::move(conn->handshake))] {});
  if (!status.ok()) {
    CloseConn(conn, absl::UnavailableError(
                        absl::StrCat("TLS handshake with ", target_, " failed: ",
                                     absl::StripPrefix(status.message(), "TLS handshake: "))));
    return;
  }
  if (conn->connect_timer != 0) loop()->CancelTimer(conn->connect_timer);
  conn->connect_timer = 0;
  OnConnected(conn, std::move(conn->connecting_fd), std::move(session));
}

void ChannelImpl::OnConnected(ClientConn* conn, ScopedFd fd,
                              std::unique_ptr<RecordLayer> record_layer) {
  ConnectionOptions connection_options;
  connection_options.output_high_water_bytes = options_.output_high_water_bytes;
  conn->connection =
      std::make_shared<Connection>(loop(), std::move(fd), address_, connection_options);
  if (record_layer != nullptr) conn->connection->set_record_layer(std::move(record_layer));
  conn->connection->set_watermark_callback(
      [this, conn](const ConnectionPtr&, bool above) { SetAboveHighWater(conn, above); });
  conn->reader = std::make_unique<FrameReader>(options_.limits);
  conn->connection->set_data_callback(
      [this, conn](const ConnectionPtr&, Buffer* buffer) { OnData(conn, buffer); });
  conn->connection->set_close_callback([this, conn](const ConnectionPtr&, const absl::Status& why) {
    CloseConn(conn, absl::UnavailableError(absl::StrCat("connection to ", target_, " lost: ",
                                                        why.message())));
  });
  conn->connection->Start();
  if (options_.keepalive_time > absl::ZeroDuration()) {
    conn->keepalive = std::make_unique<ClientKeepalive>(options_.keepalive_time,
                                                        options_.keepalive_timeout, absl::Now());
    conn->keepalive_timer = loop()->RunAt(conn->keepalive->next_check(),
                                          [this, conn] { OnKeepaliveTimer(conn); });
  }
  for (ClientConn::Queued& queued : conn->queued) {
    if (calls_.contains(queued.id) || streams_.contains(queued.id)) {
      conn->connection->Send(std::move(queued.frame));
    }
    if (queued.admitted > 0) admission_.RequestLeft(queued.admitted);
  }
  conn->queued.clear();
  conn->queued_request.clear();
  // Every frame these streams queued so far is written: later ones may go directly.
  for (uint64_t id : conn->call_ids) {
    auto stream = streams_.find(id);
    if (stream != streams_.end()) stream->second.route->SetDirect(conn->connection);
  }
}

void ChannelImpl::OnData(ClientConn* conn, Buffer* buffer) {
  if (conn->keepalive) conn->keepalive->OnInput(absl::Now());  // any input is a sign of life
  DecodeFrames(conn, buffer);
  // Readers of the streams that got messages from this read wake once the loop has read what
  // else is there, in one go (see CallStream::OnMessage). The task holds the streams, not the
  // channel: it may run after the channel is gone (a shared loop).
  WakeReadersWhenIdle(loop(), &streams_to_wake_);
}

void ChannelImpl::DecodeFrames(ClientConn* conn, Buffer* buffer) {
  while (!conn->closed) {
    Frame frame;
    const FrameReadResult result = conn->reader->Next(buffer, &frame);
    if (result.outcome == DecodeOutcome::kNeedMore) return;
    if (result.outcome == DecodeOutcome::kError) {
      CloseConn(conn, absl::UnavailableError(
                          absl::StrCat("bad frame from ", target_, ": ", result.error.message())));
      return;
    }
    switch (frame.envelope.kind()) {
      case RESPONSE:
        OnResponse(conn, std::move(frame));
        break;
      case STREAM_MESSAGE:
      case WINDOW_UPDATE:
        OnStreamFrame(conn, std::move(frame), result.body_bytes);
        break;
      case GOAWAY:
        OnGoaway(conn, frame.envelope.last_call_id());
        break;
      case PING:  // §9.1: answered at once; an ACK is never answered
        if (IsPingToAnswer(frame.envelope)) {
          conn->connection->Send(PingAckFrame(frame.envelope.ping_data(), options_.limits));
        }
        break;
      case CONNECTION_ERROR:
        CloseConn(conn, ConnectionErrorStatus(frame.envelope));
        return;
      default:
        break;  // Frames of later protocol features are ignored by this client.
    }
  }
}

void ChannelImpl::OnResponse(ClientConn* conn, Frame frame) {
  const uint64_t id = frame.envelope.call_id();
  if (auto stream = streams_.find(id); stream != streams_.end()) {
    if (stream->second.conn != conn) return;
    Complete(id, stream->second.state->FinishFromResponse(frame));
    return;
  }
  auto it = calls_.find(id);
  // Unknown: cancelled or timed out already. On another connection: not this call's reply.
  if (it == calls_.end() || it->second.conn != conn) return;
  Complete(id, FinishCallFromResponse(&frame, it->second.context, it->second.response));
}

void ChannelImpl::OnGoaway(ClientConn* conn, uint64_t last_call_id) {
  conn->draining = true;
  if (on_goaway_) on_goaway_();
  if (current_ == conn) current_ = nullptr;
  std::vector<uint64_t> refused;
  for (uint64_t id : conn->call_ids) {
    if (id > last_call_id) refused.push_back(id);
  }
  for (uint64_t id : refused) {
    Complete(id, NotProcessedError());
  }
}

void ChannelImpl::CloseConn(ClientConn* conn, const absl::Status& status) {
  if (conn->closed) return;
  conn->closed = true;
  if (current_ == conn) current_ = nullptr;
  if (conn->connect_watcher) conn->connect_watcher->Remove();
  if (conn->handshake) conn->handshake->Stop();
  if (conn->connect_timer != 0) loop()->CancelTimer(conn->connect_timer);
  if (conn->keepalive_timer != 0) loop()->CancelTimer(conn->keepalive_timer);
  conn->keepalive_timer = 0;
  std::vector<uint64_t> ids(conn->call_ids.begin(), conn->call_ids.end());
  // Before the connection was made, nothing of its calls was written: another server may be
  // tried (rpc/channel.h).
  const absl::Status for_calls =
      conn->connection == nullptr && absl::IsUnavailable(status) ? MarkNeverSent(status) : status;
  for (uint64_t id : ids) Complete(id, for_calls);
  for (const ClientConn::Queued& queued : conn->queued) {
    if (queued.admitted > 0) admission_.RequestLeft(queued.admitted);
  }
  conn->queued.clear();
  conn->queued_request.clear();
  SetAboveHighWater(conn, false);
  if (conn->connection) conn->connection->ForceClose(status);
  // Free it after the current callback stack has unwound.
  loop()->QueueInLoop([this, conn] {
    if (conn->connection) conn->connection->set_data_callback(nullptr);
    conns_.erase(conn);
  });
}

void ChannelImpl::OnKeepaliveTimer(ClientConn* conn) {
  conn->keepalive_timer = 0;
  if (conn->closed) return;
  switch (conn->keepalive->Check(absl::Now(), !conn->call_ids.empty())) {
    case ClientKeepalive::Action::kSendPing:
      conn->connection->Send(PingFrame(conn->keepalive->ping_data(), options_.limits));
      break;
    case ClientKeepalive::Action::kDead:
      CloseConn(conn, absl::UnavailableError(absl::StrCat(
                          "connection to ", target_, " lost: nothing from the server within ",
                          absl::FormatDuration(options_.keepalive_timeout),
                          " of a keepalive PING")));
      return;
    case ClientKeepalive::Action::kNone:
      break;
  }
  conn->keepalive_timer =
      loop()->RunAt(conn->keepalive->next_check(), [this, conn] { OnKeepaliveTimer(conn); });
}

void ChannelImpl::SetAboveHighWater(ClientConn* conn, bool above) {
  if (conn->above_high_water == above) return;
  conn->above_high_water = above;
  connections_above_high_water_ += above ? 1 : -1;
  admission_.SetOutputBlocked(connections_above_high_water_ > 0);
}

void ChannelImpl::SendCancel(ClientConn* conn, uint64_t id) {
  if (conn == nullptr || !conn->connection || conn->closed) return;
  conn->connection->Send(CancelFrame(id, options_.limits));  // Send drops an empty frame.
}

absl::Status ChannelImpl::Call(absl::string_view method, ClientContext* context,
                               const google::protobuf::MessageLite& request,
                               google::protobuf::MessageLite* response) {
  const uint64_t id = next_call_id_.fetch_add(1, std::memory_order_relaxed);
  std::optional<absl::Status> done =
      sync_calls_->TryCall(id, method, context, request, response, this);
  if (done.has_value()) return *std::move(done);
  return Channel::Call(method, context, request, response);
}

void ChannelImpl::CancelCall(uint64_t call_id) {
  admission_.WakeWaiters();  // a call waiting for room sees its cancellation
  if (sync_calls_->Cancel(call_id)) return;
  FailStream(call_id, absl::CancelledError("cancelled by the client"));
}

void ChannelImpl::FailStream(uint64_t id, absl::Status status) {
  // Queued, never run inline: a call started from the loop thread is attached by a queued task,
  // which must run first.
  loop()->QueueInLoop([this, id, status = std::move(status)]() mutable {
    ClientConn* conn = nullptr;
    if (auto it = calls_.find(id); it != calls_.end()) {
      conn = it->second.conn;
    } else if (auto stream = streams_.find(id); stream != streams_.end()) {
      conn = stream->second.conn;
    } else {
      return;
    }
    SendCancel(conn, id);
    Complete(id, std::move(status));
  });
}

std::unique_ptr<ClientStreamBase> ChannelImpl::StartStream(
    absl::string_view method, MethodKind kind, ClientContext* context,
    google::protobuf::MessageLite* response) {
  return StartStream(method, kind, context, response, nullptr);
}

std::unique_ptr<ClientStreamBase> ChannelImpl::StartStream(
    absl::string_view method, MethodKind kind, ClientContext* context,
    google::protobuf::MessageLite* response, StreamEndHook end_hook) {
  if (kind == MethodKind::kUnary) {
    return FailedClientStream(absl::InvalidArgumentError("StartStream of a unary method"));
  }
  const int64_t window = context->stream_receive_window();
  if (window < 0 || window > kMaxStreamCredit) {
    return FailedClientStream(absl::InvalidArgumentError(absl::StrCat(
        "stream receive window of ", window, " bytes is out of range (1 to ", kMaxStreamCredit,
        ", or 0 for the default)")));
  }
  const uint64_t id = next_call_id_.fetch_add(1, std::memory_order_relaxed);
  std::string frame;
  Envelope request = NewRequestEnvelope(id, method, *context, context->deadline());
  if (window > 0) request.set_window_update(static_cast<uint32_t>(window));
  absl::Status encoded = EncodeFrame(std::move(request), nullptr, {}, options_.limits, &frame);
  if (!encoded.ok()) return FailedClientStream(encoded);
  ClientCallAccess::Bind(context, this, id);  // first: a TryCancel() ends a wait for admission
  absl::Status admitted = admission_.Admit(frame.size(), context->deadline(), *context,
                                           /*may_wait=*/!loop()->IsInLoopThread());
  if (!admitted.ok()) {
    ClientCallAccess::Unbind(context);
    return FailedClientStream(std::move(admitted));
  }
  // Frames leave in the order the stream hands them over, after the REQUEST queued below: see
  // StreamRoute.
  auto route = std::make_shared<StreamRoute>(context);
  auto flow = std::make_shared<CallStream>(
      id, options_.limits, kDefaultStreamWindow, window > 0 ? window : kDefaultStreamWindow,
      [this, id, route](std::string bytes, absl::string_view tail) {
        WriteTicket ticket;
        if (route->TrySendDirect(&bytes, tail, &ticket)) return ticket;
        loop()->QueueInLoop([this, id, route, bytes = std::move(bytes)]() mutable {
          SendStreamFrame(id, std::move(bytes));
          route->FrameLeftLoop();
        });
        return ticket;
      },
      [this](std::function<void()> task) { loop()->QueueInLoop(std::move(task)); });
  auto state = std::make_shared<ClientStreamState>(id, kind, context, response, std::move(flow),
                                                   std::move(end_hook));
  loop()->QueueInLoop([this, state, route, frame = std::move(frame)]() mutable {
    StartStreamInLoop(std::move(state), std::move(route), std::move(frame));
  });
  return std::make_unique<ClientStreamImpl>(std::move(state), this);
}

void ChannelImpl::StartStreamInLoop(std::shared_ptr<ClientStreamState> state,
                                    std::shared_ptr<StreamRoute> route, std::string frame) {
  const uint64_t id = state->id();
  const absl::Time deadline = state->deadline();
  absl::Status unstarted;
  if (state->cancel_requested()) {
    unstarted = absl::CancelledError("cancelled before start");
  } else if (deadline <= absl::Now()) {
    unstarted = absl::DeadlineExceededError("deadline exceeded before the call started");
  }
  if (!unstarted.ok() || state->completed()) {  // completed: the stream object is gone already
    admission_.RequestLeft(frame.size());
    admission_.CallEnded();
    state->Complete(std::move(unstarted));  // a no-op if it has completed
    return;
  }
  StreamCall call;
  call.state = std::move(state);
  call.route = route;
  call.conn = EnsureConnection();
  if (deadline != absl::InfiniteFuture()) {
    call.deadline_timer = loop()->RunAt(deadline, [this, id] {
      auto it = streams_.find(id);
      if (it == streams_.end()) return;
      it->second.deadline_timer = 0;
      SendCancel(it->second.conn, id);
      Complete(id, absl::DeadlineExceededError("deadline exceeded"));
    });
  }
  ClientConn* conn = call.conn;
  streams_.emplace(id, std::move(call));
  conn->call_ids.insert(id);
  SendRequest(conn, id, std::move(frame));
  // Not connected yet: the stream keeps going through the loop (OnConnected sends the REQUEST).
  if (conn->connection) route->SetDirect(conn->connection);
}

void ChannelImpl::SendStreamFrame(uint64_t id, std::string frame) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return;  // the call has ended; late frames are dropped
  ClientConn* conn = it->second.conn;
  if (conn->connection) {
    conn->connection->Send(std::move(frame));
  } else {
    conn->queued.push_back(ClientConn::Queued{id, std::move(frame), 0});
  }
}

void ChannelImpl::OnStreamFrame(ClientConn* conn, Frame frame, uint32_t body_bytes) {
  const uint64_t id = frame.envelope.call_id();
  auto it = streams_.find(id);
  if (it == streams_.end() || it->second.conn != conn) return;
  CallStream* flow = it->second.state->flow();
  absl::Status status;
  if (frame.envelope.kind() == WINDOW_UPDATE) {
    status = flow->OnWindowUpdate(frame.envelope.window_update());
  } else if ((frame.envelope.flags() & END_OF_STREAM) != 0) {
    status = absl::InvalidArgumentError("END_OF_STREAM from the server");
  } else {
    // Copied first: OnMessage may run a ReadAsync callback, which must not find `it` stale.
    std::shared_ptr<ClientStreamState> state = it->second.state;
    bool wake_owed = false;
    status = flow->OnMessage(std::move(frame), body_bytes, &wake_owed);
    if (wake_owed) streams_to_wake_.push_back(state->shared_flow());  // once per batch
  }
  if (!status.ok()) {
    FailStream(id, absl::InternalError(
                       absl::StrCat("server broke the stream protocol: ", status.message())));
  }
}

void ChannelImpl::Complete(uint64_t id, absl::Status status) {
  auto it = calls_.find(id);
  if (it == calls_.end()) {
    auto stream = streams_.find(id);
    if (stream == streams_.end()) return;
    StreamCall call = std::move(stream->second);
    streams_.erase(stream);
    call.route->SetDirect(nullptr);  // late frames go to the loop, which drops them
    if (call.deadline_timer != 0) loop()->CancelTimer(call.deadline_timer);
    if (call.conn != nullptr) ForgetCall(call.conn, id);
    admission_.CallEnded();
    call.state->Complete(std::move(status));
    return;
  }
  PendingCall call = std::move(it->second);
  calls_.erase(it);
  if (call.deadline_timer != 0) loop()->CancelTimer(call.deadline_timer);
  if (call.conn != nullptr) ForgetCall(call.conn, id);
  admission_.CallEnded();
  EndUnstarted(&call, std::move(status));
}

void ChannelImpl::ForgetCall(ClientConn* conn, uint64_t id) {
  conn->call_ids.erase(id);
  auto queued = conn->queued_request.find(id);
  if (queued == conn->queued_request.end()) return;
  ClientConn::Queued& request = conn->queued[queued->second];
  admission_.RequestLeft(request.admitted);
  request.admitted = 0;
  std::string().swap(request.frame);  // never sent now: its memory goes back at once
  conn->queued_request.erase(queued);
}

void ChannelImpl::EndUnstarted(PendingCall* call, absl::Status status) {
  ClientCallAccess::Unbind(call->context);
  call->done(std::move(status));
}

}  // namespace

void ChannelLoop::Join(Member* member) {
  std::lock_guard<std::mutex> lock(mu_);
  members_.push_back(member);
}

bool ChannelLoop::Leave(Member* member) {
  std::lock_guard<std::mutex> lock(mu_);
  members_.erase(std::remove(members_.begin(), members_.end(), member), members_.end());
  return !stopped_;
}

void ChannelLoop::Stop() {
  std::vector<Member*> members;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    members = members_;
  }
  for (Member* member : members) member->ShutDown();
  thread_.Stop();  // runs the tasks the members left queued
}

std::unique_ptr<ClientStreamBase> StartObservedStream(Channel* channel, absl::string_view method,
                                                     MethodKind kind, ClientContext* context,
                                                     google::protobuf::MessageLite* response,
                                                     StreamEndHook end_hook) {
  auto* stream_channel = dynamic_cast<ChannelImpl*>(channel);
  if (stream_channel == nullptr) return nullptr;
  return stream_channel->StartStream(method, kind, context, response, std::move(end_hook));
}

std::unique_ptr<Channel> CreateStreamChannel(std::string target, const SocketAddress& address,
                                             const ChannelOptions& options,
                                             std::shared_ptr<TlsContext> tls,
                                             std::shared_ptr<InProcessConnector> in_process,
                                             EndpointHooks hooks) {
  return std::make_unique<ChannelImpl>(std::move(target), address, options, std::move(tls),
                                       std::move(in_process), std::move(hooks));
}

}  // namespace framerpc

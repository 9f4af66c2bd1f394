#include "rpc/server_connection.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/scratch_string.h"
#include "rpc/call_access.h"

namespace framerpc {

namespace {

// A plain TCP peer's identity says only whether it is local: every such connection shares one of
// two, instead of holding a copy (112 bytes) each. Unix-socket and TLS peers keep their own.
std::shared_ptr<const PeerIdentity> ShareIdentity(const PeerIdentity& identity) {
  static_assert(sizeof(PeerIdentity) == 112, "PeerIdentity changed: update `plain` below");
  const bool plain = !identity.unix_uid.has_value() && !identity.unix_gid.has_value() &&
                     !identity.unix_pid.has_value() && !identity.tls &&
                     !identity.tls_client_certificate && identity.tls_uri_sans.empty() &&
                     identity.tls_dns_sans.empty() && identity.tls_subject.empty();
  if (!plain) return std::make_shared<const PeerIdentity>(identity);
  // Never destroyed: connections may outlive static destruction's order.
  static const auto* const kShared = [] {
    auto* shared = new std::shared_ptr<const PeerIdentity>[2];
    for (int local = 0; local < 2; ++local) {
      auto one = std::make_shared<PeerIdentity>();
      one->local = local == 1;
      shared[local] = std::move(one);
    }
    return shared;
  }();
  return kShared[identity.local ? 1 : 0];
}

}  // namespace

ServerConnection::ServerConnection(ConnectionPtr connection, const Shared& shared,
                                   const Limits& limits, const PeerIdentity& peer_identity,
                                   uint64_t seq)
    : connection_(std::move(connection)),
      reader_(shared.dispatcher->limits()),
      peer_(connection_->peer().ToString()),
      peer_identity_(ShareIdentity(peer_identity)),
      shared_(shared),
      limits_(limits),
      seq_(seq),
      accepted_at_ns_(absl::ToUnixNanos(absl::Now())),
      timeouts_(limits.timeouts, absl::Now()) {
  if (shared_.memory_budget != nullptr) reader_.set_budget(shared_.memory_budget);
}

void ServerConnection::Start() {
  // The connection's callbacks hold only weak references: the owner of this object is the
  // server's connection table, so no reference cycle keeps a dead connection alive.
  std::weak_ptr<ServerConnection> weak = weak_from_this();
  connection_->set_data_callback([weak](const ConnectionPtr&, Buffer* buffer) {
    if (auto self = weak.lock()) self->OnData(buffer);
  });
  connection_->set_close_callback([weak](const ConnectionPtr&, const absl::Status& reason) {
    auto self = weak.lock();
    if (!self) return;
    if (!self->close_reason_.has_value()) {
      self->close_reason_ = absl::StartsWith(reason.message(), "connection closed by peer")
                                ? CloseReason::kPeerClosed
                                : CloseReason::kReset;
    }
    self->OnClosed();
  });
  connection_->set_watermark_callback([weak](const ConnectionPtr& c, bool above) {
    // Backpressure: a client that does not read its replies stops being read from, and the
    // requests it already sent stay unprocessed in the input buffer until its replies drain.
    auto self = weak.lock();
    if (!self) return;
    if (above) {
      c->StopReading();
      self->SetPaused(true);
    } else {
      self->ScheduleResume();
    }
  });
  connection_->Start();
  ArmTimer();
}

void ServerConnection::SetPaused(bool paused) {
  if (paused_ == paused) return;
  paused_ = paused;
  timeouts_.OnReadingPaused(absl::Now(), paused);
  ArmTimer();
  if (shared_.on_pause) shared_.on_pause(paused);
}

bool ServerConnection::MustPause() const {
  return connection_->above_high_water() ||
         active_.size() - open_streams_ >= MaxConcurrentCalls() || BudgetBlocks();
}

bool ServerConnection::BudgetBlocks() const {
  // A frame whose body already holds its share goes on: stopping it would hold the budget
  // without progress, and if every holder stopped, nothing would ever be given back.
  return shared_.memory_budget != nullptr && shared_.memory_budget->over() &&
         !reader_.holds_budget();
}

void ServerConnection::PauseForBudget() {
  connection_->StopReading();
  SetPaused(true);
  if (waiting_for_budget_) return;
  waiting_for_budget_ = true;
  std::weak_ptr<ServerConnection> weak = weak_from_this();
  EventLoop* loop = connection_->loop();
  shared_.memory_budget->WaitForRoom([weak, loop] {
    loop->QueueInLoop([weak] {
      auto self = weak.lock();
      if (!self) return;
      self->waiting_for_budget_ = false;
      self->ScheduleResume();
    });
  });
}

void ServerConnection::ScheduleResume() {
  if (redelivery_scheduled_) return;
  redelivery_scheduled_ = true;
  std::weak_ptr<ServerConnection> weak = weak_from_this();
  connection_->loop()->QueueInLoop([weak] {
    auto self = weak.lock();
    if (!self) return;
    self->redelivery_scheduled_ = false;
    if (self->closed_ || self->broken_) return;
    if (self->MustPause()) {
      if (self->BudgetBlocks()) self->PauseForBudget();  // still over: wait for the next room
      return;
    }
    self->SetPaused(false);
    self->connection_->StartReading();
    self->redelivering_ = true;
    self->connection_->RedeliverInput();
    self->redelivering_ = false;
  });
}

void ServerConnection::OnData(Buffer* buffer) {
  const bool frame_completed = DecodeFrames(buffer);
  if (!redelivering_ && !closed_ && !broken_) NoteInput(buffer, frame_completed);
  // Handlers blocked in Read() for what this read delivered wake once the loop has read what else
  // is there (CallStream::OnMessage). The task holds the streams, not this connection.
  WakeReadersWhenIdle(connection_->loop(), &streams_to_wake_);
}

namespace {

// The Frame that DecodeFrames decodes into, kept per loop thread so that parsing a REQUEST's
// envelope reuses the last one's strings (the method's) instead of allocating them (decoding
// clears it). Not kept when it holds much (a long method name, metadata).
struct ThreadFramePolicy {
  static constexpr size_t kKeepBytes = 1024;
  static void Reset(Frame*) {}
  static bool Keep(const Frame& frame) {
    return frame.envelope.method().capacity() <= kKeepBytes &&
           frame.envelope.metadata_size() == 0 && frame.payload.capacity() <= kKeepBytes &&
           frame.detached.capacity() <= kKeepBytes;
  }
};
using ThreadFrame = ThreadScratch<Frame, ThreadFramePolicy>;

}  // namespace

bool ServerConnection::DecodeFrames(Buffer* buffer) {
  ThreadFrame frame;  // Reused: decoding clears it.
  bool frame_completed = false;
  while (!closed_ && !broken_) {
    if (MustPause()) {
      // Leave the rest in the buffer, and stop reading more, until replies drain, calls end or
      // the memory budget has room.
      if (BudgetBlocks()) {
        PauseForBudget();
      } else {
        connection_->StopReading();
        SetPaused(true);
      }
      return frame_completed;
    }
    const FrameReadResult result = reader_.Next(buffer, frame.get());
    if (result.outcome == DecodeOutcome::kNeedMore) {
      if (result.over_budget) PauseForBudget();
      return frame_completed;
    }
    if (result.outcome == DecodeOutcome::kError) {
      ProtocolError(result.error);
      return frame_completed;
    }
    frame_completed = true;
    bytes_received_ += kFrameHeaderSize + result.body_bytes;
    if (shared_.stats != nullptr)
      shared_.stats->OnFrameReceived(kFrameHeaderSize + result.body_bytes);
    OnFrame(frame.get(), result.body_bytes);
  }
  return frame_completed;
}

void ServerConnection::SendFrame(std::string frame, std::string tail) {
  const size_t bytes = frame.size() + tail.size();
  bytes_sent_.fetch_add(bytes, std::memory_order_relaxed);
  if (shared_.stats != nullptr) shared_.stats->OnFrameSent(bytes);
  connection_->SendOwned(std::move(frame), std::move(tail));
}

void ServerConnection::NoteInput(Buffer* buffer, bool frame_completed) {
  PartialFrame partial;
  if (buffer->diverting()) {
    partial = PartialFrame{true, true, reader_.pending_body_bytes()};
  } else if (buffer->readable_bytes() > 0) {
    partial.present = true;
    uint32_t body = 0;
    uint32_t envelope = 0;
    if (buffer->readable_bytes() >= kFrameHeaderSize &&
        CheckFrameHeader(buffer->view(), shared_.dispatcher->limits(), &body, &envelope).ok()) {
      partial.header_known = true;
      partial.body_bytes = body;
    }
  }
  timeouts_.OnInput(absl::Now(), frame_completed, partial);
  partial_frame_ = partial.present;
  idle_.store(!partial_frame_ && active_.empty(), std::memory_order_relaxed);
  ArmTimer();
}

ConnectionInfo ServerConnection::Describe(absl::Time now) const {
  ConnectionInfo info;
  info.peer = peer_;
  info.identity = *peer_identity_;
  info.age = now - absl::FromUnixNanos(accepted_at_ns_);
  info.calls_in_flight = active_.size();
  info.bytes_received = bytes_received_;
  info.bytes_sent = bytes_sent_.load(std::memory_order_relaxed);
  info.buffer_bytes = connection_->buffer_bytes_held();
  return info;
}

void ServerConnection::DescribeCalls(absl::Time now, std::vector<InFlightCall>* out) const {
  for (const auto& [id, active] : active_) {
    const ServerCall& call = *active.call;
    out->push_back(
        InFlightCall{call.context.method(), peer_, now - call.arrival, call.context.deadline()});
  }
}

void ServerConnection::CloseForLimit() {
  if (closed_ || broken_ || !active_.empty() || partial_frame_) return;
  close_reason_ = CloseReason::kLimit;
  Refused(RefusalKind::kLimit, "closed to make room at a connection limit");
  BeginDrain();
  broken_ = true;
  connection_->SendAndClose("", absl::UnavailableError("closed to make room at a connection limit"));
}

void ServerConnection::ArmTimer() {
  if (closed_ || broken_) return;
  const absl::Time next = timeouts_.NextDeadline();
  // A timer already due no later will find the new state when it fires, and re-arm: deadlines
  // that move later (the usual case, as input arrives) cost no timer operation.
  if (armed() && due() <= next) return;
  Arm(connection_->loop(), next);  // disarms it for InfiniteFuture()
}

void ServerConnection::Fire() {
  // Armed only while open, when the server's table holds the connection; held here as well,
  // since what the timeout does may close it.
  if (std::shared_ptr<ServerConnection> self = weak_from_this().lock()) self->OnTimer();
}

void ServerConnection::OnTimer() {
  if (closed_ || broken_) return;
  switch (const TimeoutAction action = timeouts_.Due(absl::Now())) {
    case TimeoutAction::kNone:
      break;
    case TimeoutAction::kSendPing:
      SendPing();
      break;
    case TimeoutAction::kCloseFirstByte:
      return CloseForTimeout(action, CloseReason::kFirstByteTimeout);
    case TimeoutAction::kCloseHeader:
      return CloseForTimeout(action, CloseReason::kHeaderTimeout);
    case TimeoutAction::kCloseBody:
      return CloseForTimeout(action, CloseReason::kBodyTimeout);
    case TimeoutAction::kCloseIdle:
      return CloseForTimeout(action, CloseReason::kIdle);
    case TimeoutAction::kCloseKeepalive:
      return CloseForTimeout(action, CloseReason::kKeepalive);
    case TimeoutAction::kReleaseBuffers:
      ReleaseIdleMemory();
      break;
  }
  ArmTimer();
}

void ServerConnection::ReleaseIdleMemory() {
  connection_->ReleaseIdleBuffers();
  if (active_.empty()) absl::flat_hash_map<uint64_t, Active>().swap(active_);
  if (streams_to_wake_.empty()) std::vector<std::shared_ptr<CallStream>>().swap(streams_to_wake_);
  timeouts_.OnBuffersReleased();
}

void ServerConnection::SendPing() {
  Envelope envelope;
  envelope.set_kind(PING);
  envelope.set_ping_data(next_ping_data_++);
  std::string frame;
  if (EncodeFrame(std::move(envelope), nullptr, {}, shared_.dispatcher->limits(), &frame).ok()) {
    SendFrame(std::move(frame));
  }
  timeouts_.OnPingSent(absl::Now());
}

void ServerConnection::OnPing(const Frame& frame) {
  if ((frame.envelope.flags() & ACK) != 0) return;  // an answer: its arrival was the point
  Envelope envelope;
  envelope.set_kind(PING);
  envelope.set_flags(ACK);
  envelope.set_ping_data(frame.envelope.ping_data());
  std::string reply;
  if (EncodeFrame(std::move(envelope), nullptr, {}, shared_.dispatcher->limits(), &reply).ok()) {
    SendFrame(std::move(reply));
  }
}

void ServerConnection::CloseForTimeout(TimeoutAction action, CloseReason reason) {
  close_reason_ = reason;
  Refused(RefusalKind::kTimeout, absl::StrCat(TimeoutActionName(action), " timeout"));
  switch (action) {
    case TimeoutAction::kCloseIdle:
      // As at shutdown: GOAWAY first, so that the client opens a new connection for its next
      // call, knowing none of its calls was processed after it.
      BeginDrain();
      broken_ = true;
      connection_->SendAndClose("", absl::UnavailableError("idle connection closed"));
      return;
    case TimeoutAction::kCloseKeepalive:
      // The peer is taken for dead: nobody would read a last frame.
      broken_ = true;
      RetireAll();
      connection_->ForceClose(absl::UnavailableError("keepalive: no answer from the peer"));
      return;
    default:
      ProtocolError(absl::DeadlineExceededError(
          absl::StrCat("timed out waiting for the ", TimeoutActionName(action))));
      return;
  }
}

void ServerConnection::OnFrame(Frame* frame, uint32_t body_bytes) {
  switch (frame->envelope.kind()) {
    case REQUEST:
      OnRequest(frame);
      return;
    case CANCEL:
      OnCancel(frame->envelope.call_id());
      return;
    case STREAM_MESSAGE:
      OnStreamMessage(std::move(*frame), body_bytes);
      return;
    case WINDOW_UPDATE:
      OnWindowUpdate(*frame);
      return;
    case PING:
      OnPing(*frame);
      return;
    default:
      const std::string name = FrameKind_Name(frame->envelope.kind());
      ProtocolError(absl::InvalidArgumentError(
          absl::StrCat("unexpected frame kind ",
                       name.empty() ? absl::StrCat(static_cast<int>(frame->envelope.kind())) : name,
                       " from a client")));
  }
}

// On the thread that ran the handler; finishes the call on its connection's loop thread, if
// the connection is still there. Captures nothing: one std::function for every call.
const Dispatcher::ReplyFn ServerConnection::kFinishReply = [](std::shared_ptr<ServerCall> done,
                                                              std::string reply) {
  std::string tail = std::move(done->reply_tail);  // the handler's thread: ours to take
  EventLoop* loop = done->reply_loop;
  if (loop->IsInLoopThread()) {  // Inline handler: finish right here.
    if (auto self = std::static_pointer_cast<ServerConnection>(done->reply_target.lock())) {
      self->Finish(done, std::move(reply), std::move(tail));
    }
    return;
  }
  loop->QueueInLoop(
      [done = std::move(done), reply = std::move(reply), tail = std::move(tail)]() mutable {
        if (auto self = std::static_pointer_cast<ServerConnection>(done->reply_target.lock())) {
          self->Finish(done, std::move(reply), std::move(tail));
        }
      });
};

void ServerConnection::OnRequest(Frame* frame) {
  const uint64_t id = frame->envelope.call_id();
  if (id == 0) {
    ProtocolError(absl::InvalidArgumentError("REQUEST with call id 0"));
    return;
  }
  if (active_.contains(id)) {
    ProtocolError(absl::InvalidArgumentError(absl::StrCat("call id ", id, " is already in use")));
    return;
  }
  if (draining_) {
    SendFrame(shared_.dispatcher->ErrorResponse(
        id, absl::UnavailableError("server is shutting down; retry on a new connection")));
    return;
  }
  if (frame->envelope.timeout_us() < 0) {
    SendFrame(
        shared_.dispatcher->ErrorResponse(id, absl::InvalidArgumentError("negative timeout_us")));
    return;
  }
  last_call_id_ = std::max(last_call_id_, id);

  const uint32_t peer_window = frame->envelope.window_update();
  const Dispatcher::Route* route = shared_.dispatcher->FindRoute(frame->envelope.method());
  std::shared_ptr<ServerCall> call = Dispatcher::NewCall(frame, route, peer_, *peer_identity_);
  call->separate_reply_tail = true;
  if (route != nullptr && route->handler->kind() != MethodKind::kUnary &&
      !OpenStream(call.get(), peer_window)) {
    return;
  }
  Active& active = active_[id];
  active.call = call;
  shared_.in_flight->Add();
  if (active_.size() == 1) {
    timeouts_.OnCallsInFlight(absl::Now(), 1);
    idle_.store(false, std::memory_order_relaxed);
  }
  const absl::Time deadline = call->context.deadline();
  if (deadline != absl::InfiniteFuture()) {
    std::weak_ptr<ServerConnection> weak = weak_from_this();
    active.deadline_timer = connection_->loop()->RunAt(deadline, [weak, call] {
      auto self = weak.lock();
      if (!self) return;
      self->Finish(call, self->shared_.dispatcher->ErrorResponse(
                             call->call_id, absl::DeadlineExceededError("deadline exceeded")));
    });
  }

  call->reply_target = weak_from_this();
  call->reply_loop = connection_->loop();
  shared_.dispatcher->Dispatch(std::move(call), route, /*allow_offload=*/true, kFinishReply);
}

bool ServerConnection::OpenStream(ServerCall* call, uint32_t peer_window) {
  absl::Status refused;
  if (call->request_frame.payload_size() != 0) {
    refused = absl::InvalidArgumentError("a streaming REQUEST carries no message");
  } else if (peer_window > limits_.max_stream_window ||
             (peer_window == 0 && kDefaultStreamWindow > limits_.max_stream_window)) {
    // A window of 0 is the 1 MiB default, which a server configured below it refuses too.
    refused = absl::ResourceExhaustedError(
        absl::StrCat("requested stream window of ",
                     peer_window > 0 ? int64_t{peer_window} : kDefaultStreamWindow,
                     " bytes exceeds the server's limit of ", limits_.max_stream_window));
  } else if (open_streams_ >= limits_.max_concurrent_streams) {
    refused = absl::ResourceExhaustedError(
        absl::StrCat("too many concurrent streams on this connection (limit ",
                     limits_.max_concurrent_streams, ")"));
  } else if (!shared_.server_streams->TryAcquire()) {
    refused = absl::ResourceExhaustedError(
        absl::StrCat("too many concurrent streams on this server (limit ",
                     shared_.server_streams->limit(), ")"));
  }
  if (!refused.ok()) {
    Refused(absl::IsResourceExhausted(refused) ? RefusalKind::kLimit : RefusalKind::kGarbage,
            refused.ToString());
    shared_.dispatcher->RecordRefusal(*call, shared_.dispatcher->FindRoute(call->context.method()),
                                      refused.code());
    SendFrame(shared_.dispatcher->ErrorResponse(call->call_id, refused));
    return false;
  }
  ++open_streams_;
  ConnectionPtr connection = connection_;
  EventLoop* loop = connection_->loop();
  ServerStats* stats = shared_.stats;
  std::weak_ptr<ServerConnection> weak = weak_from_this();
  call->stream = std::make_shared<CallStream>(
      call->call_id, shared_.dispatcher->limits(),
      peer_window > 0 ? int64_t{peer_window} : kDefaultStreamWindow, kDefaultStreamWindow,
      [connection, stats, weak](std::string head, absl::string_view tail) {
        if (stats != nullptr) stats->OnFrameSent(head.size() + tail.size());
        if (auto self = weak.lock()) {
          self->bytes_sent_.fetch_add(head.size() + tail.size(), std::memory_order_relaxed);
        }
        return connection->Enqueue(std::move(head), tail);
      },
      [loop](std::function<void()> task) { loop->QueueInLoop(std::move(task)); });
  call->stream->set_stall_timeout(limits_.stream_stall_timeout);
  if (stats != nullptr) {
    call->stream->set_credit_wait_observer([stats](absl::Duration waited) {
      stats->OnCreditWait(waited);
    });
  }
  return true;
}

void ServerConnection::OnStreamMessage(Frame frame, uint32_t body_bytes) {
  auto it = active_.find(frame.envelope.call_id());
  if (it == active_.end()) return;  // ended or cancelled: a race the protocol allows
  std::shared_ptr<ServerCall> call = it->second.call;
  if (call->stream == nullptr) {
    FailCall(call, absl::InvalidArgumentError("STREAM_MESSAGE on a unary call"));
    return;
  }
  absl::Status status;
  if ((frame.envelope.flags() & END_OF_STREAM) != 0) {
    status = frame.payload_size() == 0
                 ? call->stream->OnHalfClose()
                 : absl::InvalidArgumentError("END_OF_STREAM frame carries a message");
  } else {
    bool wake_owed = false;
    status = call->stream->OnMessage(std::move(frame), body_bytes, &wake_owed);
    if (wake_owed) streams_to_wake_.push_back(call->stream);  // once per batch
  }
  if (!status.ok()) FailCall(call, status);
}

void ServerConnection::OnWindowUpdate(const Frame& frame) {
  auto it = active_.find(frame.envelope.call_id());
  if (it == active_.end() || it->second.call->stream == nullptr) return;
  std::shared_ptr<ServerCall> call = it->second.call;
  absl::Status status = call->stream->OnWindowUpdate(frame.envelope.window_update());
  if (!status.ok()) FailCall(call, status);
}

void ServerConnection::FailCall(const std::shared_ptr<ServerCall>& call,
                                const absl::Status& status) {
  Finish(call, shared_.dispatcher->ErrorResponse(call->call_id, status));
}

void ServerConnection::Finish(const std::shared_ptr<ServerCall>& call, std::string frame,
                              std::string tail) {
  auto it = active_.find(call->call_id);
  // Absent or replaced: the call was cancelled or timed out, and its late result is dropped.
  if (it == active_.end() || it->second.call != call) return;
  SendFrame(std::move(frame), std::move(tail));
  Retire(call->call_id);
}

void ServerConnection::Retire(uint64_t call_id) {
  auto it = active_.find(call_id);
  if (it == active_.end()) return;
  ServerCall* call = it->second.call.get();
  ServerCallAccess::Cancel(&call->context);  // Tells a still-running handler to stop.
  if (call->stream != nullptr) {
    call->stream->End(absl::CancelledError("the call has ended"), /*keep_queued=*/false);
    --open_streams_;
    shared_.server_streams->Release();
  }
  if (it->second.deadline_timer != 0) connection_->loop()->CancelTimer(it->second.deadline_timer);
  active_.erase(it);
  shared_.in_flight->Done();
  if (active_.empty()) {
    timeouts_.OnCallsInFlight(absl::Now(), 0);
    idle_.store(!partial_frame_, std::memory_order_relaxed);
    ArmTimer();
  }
  if (paused_ && !closed_ && !MustPause()) ScheduleResume();
  if (closed_ && active_.empty()) ReportClosed();
}

void ServerConnection::OnCancel(uint64_t call_id) { Retire(call_id); }

void ServerConnection::BeginDrain() {
  if (draining_ || closed_) return;
  draining_ = true;
  Envelope envelope;
  envelope.set_kind(GOAWAY);
  envelope.set_last_call_id(last_call_id_);
  std::string frame;
  if (EncodeFrame(std::move(envelope), nullptr, {}, shared_.dispatcher->limits(), &frame).ok()) {
    SendFrame(std::move(frame));
  }
}

void ServerConnection::ProtocolError(const absl::Status& status) {
  if (closed_ || broken_) return;
  broken_ = true;
  if (!close_reason_.has_value()) close_reason_ = CloseReason::kGarbage;
  if (close_reason_ == CloseReason::kGarbage) Refused(RefusalKind::kGarbage, status.ToString());
  Envelope envelope;
  envelope.set_kind(CONNECTION_ERROR);
  envelope.set_status_code(static_cast<int>(status.code()));
  envelope.set_status_message(std::string(status.message()));
  std::string frame;
  EncodeFrame(std::move(envelope), nullptr, {}, shared_.dispatcher->limits(), &frame).IgnoreError();
  // No reply can be sent after this frame: stop the calls now rather than when the socket closes.
  RetireAll();
  connection_->SendAndClose(std::move(frame), status);
}

void ServerConnection::Refused(RefusalKind kind, absl::string_view reason) {
  if (shared_.refusals != nullptr) shared_.refusals->OnRefusal(kind, peer_, reason);
}

void ServerConnection::EndOpenCalls(const absl::Status& status) {
  std::vector<std::shared_ptr<ServerCall>> open;
  open.reserve(active_.size());
  for (const auto& [id, active] : active_) open.push_back(active.call);
  for (const std::shared_ptr<ServerCall>& call : open) FailCall(call, status);
}

void ServerConnection::RetireAll() {
  std::vector<uint64_t> ids;
  ids.reserve(active_.size());
  for (const auto& [id, active] : active_) ids.push_back(id);
  for (uint64_t id : ids) Retire(id);
}

void ServerConnection::ReportClosed() {
  if (closed_reported_) return;
  closed_reported_ = true;
  if (shared_.on_closed) shared_.on_closed(this);
}

void ServerConnection::OnClosed() {
  closed_ = true;
  Cancel();  // LoopTimer: must not be armed once the connection may go
  if (shared_.stats != nullptr)
    shared_.stats->OnClosed(close_reason_.value_or(CloseReason::kReset));
  SetPaused(false);
  // Nobody can receive the replies any more: cancel every call still running.
  RetireAll();
  if (active_.empty()) ReportClosed();
}

}  // namespace framerpc

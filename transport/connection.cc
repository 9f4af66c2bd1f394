#include "transport/connection.h"

#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <mutex>

#include "absl/strings/str_cat.h"

namespace framerpc {

Connection::Connection(EventLoop* loop, ScopedFd fd, SocketAddress peer, ConnectionOptions options)
    : loop_(loop),
      fd_(std::move(fd)),
      peer_(std::move(peer)),
      options_(options),
      watcher_(std::make_unique<Watcher>(loop, fd_.get())) {}

Connection::~Connection() = default;

void Connection::set_record_layer(std::unique_ptr<RecordLayer> layer) {
  record_ = std::move(layer);
  if (record_ != nullptr && record_state_ == nullptr) {
    record_state_ = std::make_unique<RecordState>();
  }
}

void Connection::Start() {
  watcher_->Tie(shared_from_this());
  watcher_->set_read_callback([this] { HandleRead(); });
  watcher_->set_write_callback([this] { HandleWrite(); });
  watcher_->set_error_callback([this] {
    // Either the socket failed, or epoll refused to watch it (the watcher says which).
    const absl::Status& refused = watcher_->registration_error();
    HandleClose(!refused.ok() ? refused
                              : absl::UnavailableError(
                                    absl::StrCat("socket error: ", SocketErrorText())));
  });
  watcher_->EnableReading();
  // The handshake may have left application data decrypted in the session already.
  if (record_ != nullptr) loop_->QueueInLoop([self = shared_from_this()] { self->HandleRead(); });
}

std::string Connection::SocketErrorText() const {
  int err = 0;
  socklen_t len = sizeof(err);
  ::getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &err, &len);
  return err == 0 ? "hang-up" : std::strerror(err);
}

WriteTicket& WriteTicket::operator=(WriteTicket&& other) noexcept {
  if (this != &other) {
    Write();
    connection_ = std::move(other.connection_);
  }
  return *this;
}

void WriteTicket::Write() {
  if (connection_ == nullptr) return;
  ConnectionPtr connection = std::move(connection_);
  connection->WriteAsOwner();
}

void Connection::Send(std::string bytes) { Send(std::move(bytes), absl::string_view()); }

void Connection::SendOwned(std::string head, std::string tail) {
  if (head.empty() && tail.empty()) return;
  if (!output_open_.load(std::memory_order_acquire)) return;
  if (loop_->IsInLoopThread()) {
    std::unique_ptr<WriteRequest> request = writes_.NewRequest();
    request->head = std::move(head);
    request->tail = std::move(tail);
    EnqueueRequest(std::move(request), absl::string_view());
  } else {
    Send(std::move(head), tail);
  }
}

void Connection::Send(std::string head, absl::string_view tail) {
  if (head.empty() && tail.empty()) return;
  if (!output_open_.load(std::memory_order_acquire)) return;
  std::unique_ptr<WriteRequest> request = writes_.NewRequest();
  if (loop_->IsInLoopThread()) {
    head.append(tail.data(), tail.size());
    tail = absl::string_view();
  }
  request->head = std::move(head);
  if (EnqueueRequest(std::move(request), tail)) WriteAsOwner();
}

WriteTicket Connection::Enqueue(std::string head, absl::string_view tail) {
  if (head.empty() && tail.empty()) return WriteTicket();
  if (!output_open_.load(std::memory_order_acquire)) return WriteTicket();
  std::unique_ptr<WriteRequest> request = writes_.NewRequest();
  if (loop_->IsInLoopThread()) {
    head.append(tail.data(), tail.size());
    tail = absl::string_view();
  }
  request->head = std::move(head);
  if (!EnqueueRequest(std::move(request), tail)) return WriteTicket();
  return WriteTicket(shared_from_this());
}

bool Connection::EnqueueRequest(std::unique_ptr<WriteRequest> request,
                                absl::string_view borrowed) {
  const bool in_loop = loop_->IsInLoopThread();
  const size_t bytes = request->size() + borrowed.size();
  size_t total = 0;
  // A queued request is counted before it is linked, so before its owner can write (and
  // uncount) it. An owner's own request is counted only if it is left queued (WriteAsOwner).
  const WriteQueue::PushResult pushed =
      writes_.Push(std::move(request), borrowed, [this, bytes, &total](WriteRequest* queued) {
        queued->counted = true;
        total = AddQueued(bytes);
      });
  if (pushed == WriteQueue::PushResult::kOwner) {
    if (!in_loop) return true;
    WriteRequest* own = writes_.Front();
    own->counted = true;
    total = AddQueued(bytes);
    loop_writes_ = true;
    ScheduleFlush();
  }
  if (total > options_.output_high_water_bytes) CheckWatermark(total);
  return false;
}

void Connection::ScheduleFlush() {
  // Coalesce everything queued during this batch of events into one writev. Replies produced
  // while input is being handled are flushed by RunDataCallback itself when the callback returns.
  if (flush_scheduled_ || in_data_callback_ || watcher_->IsWriting()) return;
  flush_scheduled_ = true;
  loop_->QueueInLoop([self = shared_from_this()] {
    self->flush_scheduled_ = false;
    self->Flush();
  });
}

size_t Connection::AddQueued(size_t n) {
  if (options_.output_budget != nullptr) options_.output_budget->ForceReserve(n);
  return queued_bytes_.fetch_add(n, std::memory_order_relaxed) + n;
}

void Connection::SubtractQueued(size_t n) {
  if (n == 0) return;
  queued_bytes_.fetch_sub(n, std::memory_order_relaxed);
  if (options_.output_budget != nullptr) options_.output_budget->Release(n);
}

void Connection::CheckWatermark(size_t total) {
  const bool above = above_high_water_.load(std::memory_order_relaxed);
  if (above ? total > options_.output_high_water_bytes / 2
            : total <= options_.output_high_water_bytes) {
    return;  // no crossing to report
  }
  if (loop_->IsInLoopThread()) {
    FireWatermark(total);
  } else if (!watermark_check_queued_.exchange(true, std::memory_order_acq_rel)) {
    loop_->QueueInLoop([self = shared_from_this()] { self->UpdateWatermark(); });
  }
}

void Connection::UpdateWatermark() {
  watermark_check_queued_.store(false, std::memory_order_release);
  FireWatermark(queued_bytes_.load(std::memory_order_relaxed));
}

void Connection::FireWatermark(size_t queued) {
  if (state_ == State::kClosed || !watermark_callback_) return;
  const bool above = above_high_water_.load(std::memory_order_relaxed);
  if (!above && queued > options_.output_high_water_bytes) {
    above_high_water_.store(true, std::memory_order_relaxed);
    watermark_callback_(shared_from_this(), true);
  } else if (above && queued <= options_.output_high_water_bytes / 2) {
    above_high_water_.store(false, std::memory_order_relaxed);
    watermark_callback_(shared_from_this(), false);
  }
}

namespace {

// One non-blocking sendmsg of `count` buffers. MSG_NOSIGNAL, not writev: a peer that has gone
// away must yield EPIPE here, not a SIGPIPE that kills whatever process this library lives in.
ssize_t SendBuffers(int fd, iovec* vec, int count) {
  msghdr msg{};
  msg.msg_iov = vec;
  msg.msg_iovlen = static_cast<size_t>(count);
  return ::sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
}

// Adds what is left of `request` (from `written` on) to `vec`; returns the buffers added (0-2).
int AddBuffers(const WriteRequest& request, iovec* vec) {
  int count = 0;
  size_t skip = request.written;
  for (absl::string_view piece : {absl::string_view(request.head), request.tail_view()}) {
    if (skip >= piece.size()) {
      skip -= piece.size();
      continue;
    }
    vec[count].iov_base = const_cast<char*>(piece.data() + skip);
    vec[count].iov_len = piece.size() - skip;
    skip = 0;
    ++count;
  }
  return count;
}

// The first piece of what is left of `request`.
absl::string_view LeftPiece(const WriteRequest& request) {
  if (request.written < request.head.size()) {
    return absl::string_view(request.head).substr(request.written);
  }
  return request.tail_view().substr(request.written - request.head.size());
}

}  // namespace

Connection::WriteOutcome Connection::WriteQueued(absl::Status* error) {
  if (record_ != nullptr) return WriteQueuedRecords(error);
  constexpr int kMaxBuffers = 64;
  for (;;) {
    if (closing_.load(std::memory_order_acquire)) return WriteOutcome::kClosing;
    WriteRequest* front = writes_.Front();
    if (front == nullptr) {
      if (writes_.TryRelease()) return WriteOutcome::kDrained;
      continue;  // more came meanwhile
    }
    if (front->done()) {
      if (front->kind == WriteRequest::Kind::kEnd) return WriteOutcome::kEnded;
      writes_.PopFront();  // an empty request
      continue;
    }
    iovec vec[kMaxBuffers];
    int count = 0;
    for (WriteRequest* r = front; r != nullptr && count <= kMaxBuffers - 2;
         r = WriteQueue::Next(r)) {
      count += AddBuffers(*r, vec + count);
      if (r->kind == WriteRequest::Kind::kEnd) break;  // nothing after a close is written
    }
    const ssize_t n = SendBuffers(fd_.get(), vec, count);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return WriteOutcome::kBlocked;
      *error = absl::UnavailableError(absl::StrCat("write failed: ", std::strerror(errno)));
      return WriteOutcome::kError;
    }
    size_t left = static_cast<size_t>(n);
    size_t counted = 0;
    while (left > 0) {
      WriteRequest* r = writes_.Front();
      const size_t take = std::min(left, r->left());
      r->written += take;
      left -= take;
      if (r->counted) counted += take;
      if (r->done() && r->kind == WriteRequest::Kind::kData) writes_.PopFront();
    }
    SubtractQueued(counted);
  }
}

Connection::WriteOutcome Connection::WriteQueuedRecords(absl::Status* error) {
  std::lock_guard<std::mutex> lock(record_state_->mu);
  for (;;) {
    // The records of one pass leave together (one send for several, like the plain writev).
    record_->Cork();
    WriteOutcome outcome = WriteRecordsLocked(error);
    RecordIo sent = record_->Uncork();
    const size_t staged = record_state_->stage.capacity();
    record_state_->stage_held.store(staged > std::string().capacity() ? staged : 0,
                                    std::memory_order_relaxed);
    if (outcome == WriteOutcome::kError || outcome == WriteOutcome::kClosing) return outcome;
    if (sent.kind == RecordIo::Kind::kError) {
      *error = sent.error;
      return WriteOutcome::kError;
    }
    // The output is not written until the layer has sent its records too.
    if (outcome == WriteOutcome::kBlocked || record_->HasUnsentOutput()) {
      return WriteOutcome::kBlocked;
    }
    if (outcome == WriteOutcome::kEnded) return outcome;
    // kDrained here means the queue is empty: give it up, unless more came meanwhile.
    if (writes_.TryRelease()) return WriteOutcome::kDrained;
  }
}

Connection::WriteOutcome Connection::WriteRecordsLocked(absl::Status* error) {
  for (;;) {
    if (closing_.load(std::memory_order_acquire)) return WriteOutcome::kClosing;
    // The stage first: after kWantWrite the layer must be offered the same bytes again.
    if (record_state_->stage.empty()) StageRecords();
    WriteRequest* front = nullptr;
    absl::string_view piece = record_state_->stage;
    if (piece.empty()) {
      front = writes_.Front();
      if (front == nullptr) return WriteOutcome::kDrained;  // the caller releases
      if (front->done()) {
        if (front->kind == WriteRequest::Kind::kEnd) return WriteOutcome::kEnded;
        writes_.PopFront();
        continue;
      }
      piece = LeftPiece(*front);
    }
    RecordIo io = record_->Write(piece.data(), piece.size());
    if (io.kind == RecordIo::Kind::kWantWrite) return WriteOutcome::kBlocked;
    if (io.kind != RecordIo::Kind::kOk) {
      *error = io.kind == RecordIo::Kind::kError
                   ? io.error
                   : absl::UnavailableError("TLS write: the session cannot write now");
      return WriteOutcome::kError;
    }
    if (front == nullptr) {
      record_state_->stage.erase(0, io.bytes);  // its bytes were uncounted when staged
      continue;
    }
    front->written += io.bytes;
    if (front->counted) SubtractQueued(io.bytes);
    if (front->done() && front->kind == WriteRequest::Kind::kData) writes_.PopFront();
  }
}

void Connection::StageRecords() {
  // Small requests are copied into one record; a large one is written from where it is.
  WriteRequest* front = writes_.Front();
  if (front == nullptr || front->left() >= RecordLayer::kMaxRecordBytes) return;
  if (front->kind == WriteRequest::Kind::kEnd) return;
  // Worth it when more than one piece would make more than one record.
  if (WriteQueue::Next(front) == nullptr && LeftPiece(*front).size() == front->left()) return;
  size_t uncounted = 0;
  while (front != nullptr && front->kind == WriteRequest::Kind::kData &&
         record_state_->stage.size() + front->left() <= RecordLayer::kMaxRecordBytes) {
    const size_t left = front->left();
    if (front->counted) uncounted += left;
    for (absl::string_view piece = LeftPiece(*front); !piece.empty();
         piece = LeftPiece(*front)) {
      record_state_->stage.append(piece.data(), piece.size());
      front->written += piece.size();
    }
    writes_.PopFront();
    front = writes_.Front();
  }
  SubtractQueued(uncounted);
}

void Connection::WriteAsOwner() {
  absl::Status error;
  const WriteOutcome outcome = WriteQueued(&error);
  switch (outcome) {
    case WriteOutcome::kDrained:
      break;
    case WriteOutcome::kBlocked: {
      // The loop writes the rest once the socket is writable; what this thread lent is copied,
      // and its own request, if part is left, is counted as queued now.
      writes_.OwnBorrowed();
      WriteRequest* front = writes_.Front();
      size_t total = queued_bytes_.load(std::memory_order_relaxed);
      if (front != nullptr && !front->counted) {
        front->counted = true;
        total = AddQueued(front->left());
      }
      loop_->QueueInLoop([self = shared_from_this()] { self->TakeOverWrites(); });
      if (total > options_.output_high_water_bytes) CheckWatermark(total);
      return;
    }
    case WriteOutcome::kEnded:
    case WriteOutcome::kClosing:
    case WriteOutcome::kError:
      SubtractQueued(writes_.Poison());
      loop_->QueueInLoop(
          [self = shared_from_this(), error = std::move(error)] { self->OnWritesEnded(error); });
      break;
  }
  CheckWatermark(queued_bytes_.load(std::memory_order_relaxed));
}

void Connection::TakeOverWrites() {
  loop_writes_ = true;
  if (state_ == State::kClosed) {
    PoisonWrites();
    CloseSocket();
    return;
  }
  // Level-triggered: if the socket has room already, the write callback runs at once.
  if (!watcher_->IsWriting()) watcher_->EnableWriting();
}

void Connection::PoisonWrites() {
  loop_writes_ = false;
  SubtractQueued(writes_.Poison());
}

void Connection::OnWritesEnded(absl::Status error) {
  write_side_ended_ = true;
  if (state_ == State::kClosed) {
    CloseSocket();
    return;
  }
  if (!error.ok()) {
    HandleClose(std::move(error));
    return;
  }
  if (watcher_->IsWriting() && !read_wants_write_) watcher_->DisableWriting();
  ShutdownWrite();
  if (state_ == State::kLingering) CloseIfDrained();
}

void Connection::Flush() {
  if (state_ == State::kClosed || !loop_writes_) return;
  absl::Status error;
  const WriteOutcome outcome = WriteQueued(&error);
  switch (outcome) {
    case WriteOutcome::kDrained:
      loop_writes_ = false;
      if (watcher_->IsWriting() && !read_wants_write_) watcher_->DisableWriting();
      break;
    case WriteOutcome::kBlocked:
      if (!watcher_->IsWriting()) watcher_->EnableWriting();
      break;
    case WriteOutcome::kEnded:
    case WriteOutcome::kClosing:
    case WriteOutcome::kError:
      PoisonWrites();
      OnWritesEnded(std::move(error));
      return;
  }
  FireWatermark(queued_bytes_.load(std::memory_order_relaxed));
}

void Connection::HandleWrite() {
  if (read_wants_write_) {
    read_wants_write_ = false;
    HandleRead();
    if (state_ == State::kClosed) return;
  }
  if (loop_writes_) {
    Flush();
  } else if (watcher_->IsWriting() && !read_wants_write_) {
    watcher_->DisableWriting();  // the write role went elsewhere (or ended) meanwhile
  }
}

void Connection::ShutdownWrite() {
  if (record_ != nullptr) {
    std::lock_guard<std::mutex> lock(record_state_->mu);
    if (fd_.valid()) record_->SendCloseNotify();
    if (record_->OwnsTransport()) return;
  }
  ::shutdown(fd_.get(), SHUT_WR);
}

void Connection::CloseSocket() {
  if (!fd_.valid()) return;
  if (record_ != nullptr) {
    std::lock_guard<std::mutex> lock(record_state_->mu);
    record_->Close();
    record_state_->closed = true;
  }
  fd_.reset();
}

bool Connection::InputPending() {
  if (record_ != nullptr && record_->OwnsTransport()) {
    std::lock_guard<std::mutex> lock(record_state_->mu);
    return record_->HasBufferedInput();
  }
  int unread = 0;
  return ::ioctl(fd_.get(), FIONREAD, &unread) != 0 || unread > 0;
}

void Connection::CloseIfDrained() {
  if (!write_side_ended_ || InputPending()) return;
  input_.Consume(input_.readable_bytes());
  HandleClose(linger_reason_);
}

void Connection::HandleRecordsRead() {
  size_t total = 0;
  absl::Status ended;  // the session ended (close_notify or EOF) or failed
  bool read_more = true;
  while (read_more && total < options_.max_read_bytes) {
    size_t room = 0;
    char* into = input_.BeginWrite(RecordLayer::kMaxRecordBytes, &room);
    RecordIo io;
    bool more_buffered = false;
    {
      std::lock_guard<std::mutex> lock(record_state_->mu);
      if (!fd_.valid()) return;
      io = record_->Read(into, room);
      if (io.kind == RecordIo::Kind::kOk) more_buffered = record_->HasBufferedInput();
    }
    switch (io.kind) {
      case RecordIo::Kind::kOk:
        input_.CommitWrite(io.bytes);
        total += io.bytes;
        // The session reads ahead: with nothing left in it, the socket was drained by that read
        // (or more arrives with a readiness of its own), and one recv(2) that would only say
        // EAGAIN is saved, as the plain path's single read per readiness does.
        read_more = more_buffered;
        break;
      case RecordIo::Kind::kWantRead:
        input_.CommitWrite(0);
        read_more = false;
        break;
      case RecordIo::Kind::kWantWrite:
        input_.CommitWrite(0);
        read_wants_write_ = true;
        if (!watcher_->IsWriting()) watcher_->EnableWriting();
        read_more = false;
        break;
      case RecordIo::Kind::kClosed:
        input_.CommitWrite(0);
        ended = absl::UnavailableError("connection closed by peer");
        read_more = false;
        break;
      case RecordIo::Kind::kError:
        input_.CommitWrite(0);
        ended = io.error;
        read_more = false;
        break;
    }
  }
  if (total > 0 && state_ == State::kLingering) {
    input_.Consume(input_.readable_bytes());
  } else if (total > 0) {
    RunDataCallback();  // what arrived before the end is still delivered
  }
  if (state_ == State::kClosed) return;
  if (!ended.ok()) {
    HandleClose(state_ == State::kLingering ? linger_reason_ : ended);
    return;
  }
  // Plaintext left decrypted in the session: the socket will not say it is readable for it.
  bool buffered;
  {
    std::lock_guard<std::mutex> lock(record_state_->mu);
    buffered = record_->HasBufferedInput();
  }
  if (buffered && watcher_->IsReading()) {
    loop_->QueueInLoop([self = shared_from_this()] {
      if (self->state_ != State::kClosed && self->watcher_->IsReading()) self->HandleRead();
    });
  }
}

void Connection::HandleRead() {
  if (record_ != nullptr) return HandleRecordsRead();
  int saved_errno = 0;
  const ssize_t n = input_.ReadFd(fd_.get(), options_.max_read_bytes, &saved_errno);
  if (n > 0 && state_ == State::kLingering) {
    input_.Consume(input_.readable_bytes());
  } else if (n > 0) {
    RunDataCallback();
  } else if (n == 0) {
    HandleClose(state_ == State::kLingering ? linger_reason_
                                            : absl::UnavailableError("connection closed by peer"));
  } else if (saved_errno != EAGAIN && saved_errno != EINTR) {
    HandleClose(absl::UnavailableError(absl::StrCat("read failed: ", std::strerror(saved_errno))));
  }
}

void Connection::Shutdown() {
  // At once, not in the loop task: a Send() this thread makes after Shutdown() must be dropped,
  // and other threads' sends do not wait for the loop. The end is a request in the queue, behind
  // everything sent before: OnWritesEnded shuts the write side once it is reached.
  output_open_.store(false, std::memory_order_release);
  std::unique_ptr<WriteRequest> end = writes_.NewRequest();
  end->kind = WriteRequest::Kind::kEnd;
  if (EnqueueRequest(std::move(end), absl::string_view())) WriteAsOwner();
  loop_->RunInLoop([self = shared_from_this()] {
    if (self->state_ == State::kOpen) self->state_ = State::kShuttingDown;
  });
}

void Connection::ForceClose(absl::Status reason) {
  output_open_.store(false, std::memory_order_release);
  loop_->RunInLoop([self = shared_from_this(), r = std::move(reason)]() mutable {
    self->HandleClose(std::move(r));
  });
}

void Connection::StopReading() {
  if (state_ != State::kClosed && watcher_->IsReading()) watcher_->DisableReading();
}

void Connection::RunDataCallback() {
  if (!data_callback_) return;
  in_data_callback_ = true;
  data_callback_(shared_from_this(), &input_);
  in_data_callback_ = false;
  // What the callback sent (typically the replies to what it read) goes out in one write, if
  // the loop owns the output; otherwise the thread that owns it writes it.
  if (loop_writes_ && !watcher_->IsWriting() && !flush_scheduled_) Flush();
}

void Connection::RedeliverInput() {
  if (state_ == State::kOpen && (input_.readable_bytes() > 0 || input_.divert_complete())) {
    RunDataCallback();
  }
}

void Connection::StartReading() {
  if (state_ == State::kClosed || watcher_->IsReading()) return;
  watcher_->EnableReading();
  if (record_ != nullptr) {
    // Input the session decrypted before reading paused shows no readiness of its own.
    loop_->QueueInLoop([self = shared_from_this()] {
      if (self->state_ != State::kClosed && self->watcher_->IsReading()) self->HandleRead();
    });
  }
}

void Connection::HandleClose(absl::Status reason) {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  if (linger_timer_ != 0) loop_->CancelTimer(linger_timer_);
  linger_timer_ = 0;
  watcher_->Remove();
  // Close the socket now rather than with the last reference, so that fd usage is bounded by the
  // open connections, not by whoever still holds a pointer to a dead one; but only once no thread
  // may be writing to it. An owner on another thread sees closing_ (or the request below) at its
  // next step, drops what is queued and hands the close back (OnWritesEnded).
  output_open_.store(false, std::memory_order_release);
  closing_.store(true, std::memory_order_release);
  if (loop_writes_) {
    PoisonWrites();
    CloseSocket();
  } else if (writes_.poisoned()) {
    CloseSocket();
  } else {
    std::unique_ptr<WriteRequest> end = writes_.NewRequest();
    end->kind = WriteRequest::Kind::kEnd;
    if (writes_.Push(std::move(end)) == WriteQueue::PushResult::kOwner) {
      PoisonWrites();
      CloseSocket();
    }
  }
  ConnectionPtr self = shared_from_this();
  if (close_callback_) close_callback_(self, reason);
  // Release the callbacks (and whatever they captured) once none of them is running; the fd
  // closes with the last reference.
  loop_->QueueInLoop([self] {
    self->data_callback_ = nullptr;
    self->close_callback_ = nullptr;
    self->watermark_callback_ = nullptr;
  });
}

void Connection::ReleaseIdleBuffers() {
  input_.ReleaseIfEmpty();
  if (record_ == nullptr || state_ == State::kClosed) return;
  {
    std::lock_guard<std::mutex> lock(record_state_->mu);
    if (!record_state_->closed) record_->ReleaseIdleBuffers();  // the record layer's own buffers
  }
  // An empty queue holds no memory; the record stage belongs to the queue's owner. Taking the
  // role with an empty request frees it when nobody is writing.
  if (loop_writes_) return;
  std::unique_ptr<WriteRequest> probe = writes_.NewRequest();
  if (writes_.Push(std::move(probe)) != WriteQueue::PushResult::kOwner) return;
  if (record_state_->stage.empty()) {
    std::string().swap(record_state_->stage);
    record_state_->stage_held.store(0, std::memory_order_relaxed);
  }
  loop_writes_ = true;
  Flush();  // pops the probe and writes whatever came behind it
}

size_t Connection::buffer_bytes_held() {
  const size_t staged =
      record_state_ == nullptr ? 0 : record_state_->stage_held.load(std::memory_order_relaxed);
  return input_.capacity() + staged;
}

void Connection::SendAndClose(std::string bytes, absl::Status reason, absl::Duration linger) {
  // Queued at once, behind everything sent before and ahead of nothing: later sends are dropped.
  // If the output was closed already, `bytes` are too.
  const bool was_open = output_open_.exchange(false, std::memory_order_acq_rel);
  std::unique_ptr<WriteRequest> end = writes_.NewRequest();
  end->kind = WriteRequest::Kind::kEnd;
  if (was_open) end->head = std::move(bytes);
  if (EnqueueRequest(std::move(end), absl::string_view())) WriteAsOwner();
  loop_->RunInLoop([self = shared_from_this(), r = std::move(reason), linger]() mutable {
    if (self->state_ == State::kClosed || self->state_ == State::kLingering) return;
    self->state_ = State::kLingering;
    self->linger_reason_ = std::move(r);
    self->StartReading();
    std::weak_ptr<Connection> weak = self;
    self->linger_timer_ = self->loop_->RunAfter(linger, [weak] {
      if (auto c = weak.lock()) {
        c->linger_timer_ = 0;
        c->HandleClose(c->linger_reason_);
      }
    });
    // The end may have been written already (OnWritesEnded ran before this task).
    if (self->write_side_ended_) self->CloseIfDrained();
  });
}

}  // namespace framerpc

#include "transport/connection.h"

#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>

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

void Connection::Send(std::string bytes) { Send(std::move(bytes), absl::string_view()); }

void Connection::SendOwned(std::string head, std::string tail) {
  if (head.empty() && tail.empty()) return;
  if (loop_->IsInLoopThread()) {
    SendInLoop(std::move(head), std::move(tail));
  } else {
    SendDirect(std::move(head), tail);
  }
}

void Connection::Send(std::string head, absl::string_view tail) {
  if (head.empty() && tail.empty()) return;
  if (loop_->IsInLoopThread()) {
    head.append(tail.data(), tail.size());
    SendInLoop(std::move(head));
  } else {
    SendDirect(std::move(head), tail);
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

}  // namespace

void Connection::SendDirect(std::string head, absl::string_view tail) {
  bool wake_to_flush = false;
  bool wake_for_watermark = false;
  {
    std::lock_guard<std::mutex> lock(output_mu_);
    if (!output_open_) return;
    size_t written = 0;
    if (record_ != nullptr) {
      if (output_.empty() && record_stage_.empty() && !loop_flushes_) {
        absl::Status error;
        written = WriteRecordsDirectLocked(&head, &tail, &error);
        if (!error.ok()) {
          CloseOutputLocked();
          loop_->QueueInLoop([self = shared_from_this(), error] { self->HandleClose(error); });
          return;
        }
        if (written == head.size() + tail.size()) {
          if (!record_->HasUnsentOutput()) return;
          // The layer took it all, the socket not: the loop sends the rest once writable.
          const bool wake = !loop_flushes_;
          loop_flushes_ = true;
          if (wake) {
            loop_->QueueInLoop([self = shared_from_this()] {
              if (!self->watcher_->IsWriting() && !self->flush_scheduled_) self->Flush();
            });
          }
          return;
        }
      }
    } else if (output_.empty() && !loop_flushes_) {
      iovec vec[2] = {{head.data(), head.size()}, {const_cast<char*>(tail.data()), tail.size()}};
      const ssize_t n = SendBuffers(fd_.get(), vec, tail.empty() ? 1 : 2);
      if (n == static_cast<ssize_t>(head.size() + tail.size())) return;  // nothing for the loop
      if (n < 0 && errno != EAGAIN && errno != EINTR) {
        const int err = errno;
        // Closed on the loop (HandleClose, queued below); until then, later output is dropped
        // rather than written after a gap.
        CloseOutputLocked();
        loop_->QueueInLoop([self = shared_from_this(), err] {
          self->HandleClose(
              absl::UnavailableError(absl::StrCat("write failed: ", std::strerror(err))));
        });
        return;
      }
      if (n > 0) written = static_cast<size_t>(n);
    }
    // What the socket did not take, copied once into the queue.
    std::string bytes;
    if (written < head.size()) {
      head.erase(0, written);
      bytes = std::move(head);
      bytes.append(tail.data(), tail.size());
    } else {
      bytes.assign(tail.data() + (written - head.size()), tail.size() - (written - head.size()));
    }
    const size_t queued = AddQueuedLocked(bytes.size());
    output_.push_back(std::move(bytes));
    wake_to_flush = !loop_flushes_;
    loop_flushes_ = true;
    if (queued > options_.output_high_water_bytes && !watermark_check_queued_) {
      watermark_check_queued_ = true;
      wake_for_watermark = true;
    }
  }
  if (wake_to_flush || wake_for_watermark) {
    loop_->QueueInLoop([self = shared_from_this(), wake_to_flush, wake_for_watermark] {
      // Not while EPOLLOUT is awaited or a flush is already scheduled: those will write it.
      if (wake_to_flush && !self->watcher_->IsWriting() && !self->flush_scheduled_) {
        self->Flush();
      }
      if (wake_for_watermark) self->UpdateWatermark();  // and allows the next check
    });
  }
}

size_t Connection::AddQueuedLocked(size_t n) {
  const size_t queued = queued_bytes_.load(std::memory_order_relaxed) + n;
  queued_bytes_.store(queued, std::memory_order_relaxed);
  if (options_.output_budget != nullptr) options_.output_budget->ForceReserve(n);
  return queued;
}

void Connection::SubtractQueuedLocked(size_t n) {
  if (n == 0) return;
  queued_bytes_.store(queued_bytes_.load(std::memory_order_relaxed) - n,
                      std::memory_order_relaxed);
  if (options_.output_budget != nullptr) options_.output_budget->Release(n);
}

void Connection::SendInLoop(std::string bytes, std::string tail) {
  if (state_ != State::kOpen) return;
  size_t queued;
  {
    std::lock_guard<std::mutex> lock(output_mu_);
    if (!output_open_) return;
    queued = AddQueuedLocked(bytes.size() + tail.size());
    if (!bytes.empty()) output_.push_back(std::move(bytes));
    if (!tail.empty()) output_.push_back(std::move(tail));
    loop_flushes_ = true;
  }
  FireWatermark(queued);
  // Coalesce everything queued during this batch of events into one writev. Replies produced
  // while input is being handled are flushed by HandleRead itself when the callback returns.
  if (!flush_scheduled_ && !in_data_callback_ && !watcher_->IsWriting()) {
    flush_scheduled_ = true;
    loop_->QueueInLoop([self = shared_from_this()] {
      self->flush_scheduled_ = false;
      self->Flush();
    });
  }
}

void Connection::UpdateWatermark() {
  size_t queued;
  {
    std::lock_guard<std::mutex> lock(output_mu_);
    watermark_check_queued_ = false;
    queued = queued_bytes_.load(std::memory_order_relaxed);
  }
  FireWatermark(queued);
}

void Connection::FireWatermark(size_t queued) {
  if (state_ == State::kClosed || !watermark_callback_) return;
  if (!above_high_water_ && queued > options_.output_high_water_bytes) {
    above_high_water_ = true;
    watermark_callback_(shared_from_this(), true);
  } else if (above_high_water_ && queued <= options_.output_high_water_bytes / 2) {
    above_high_water_ = false;
    watermark_callback_(shared_from_this(), false);
  }
}

void Connection::Flush() {
  if (state_ == State::kClosed) return;
  bool drained;
  size_t queued;
  int write_error = 0;
  absl::Status record_error;
  {
    std::lock_guard<std::mutex> lock(output_mu_);
    if (record_ != nullptr) FlushRecordsLocked(&record_error);
    while (record_ == nullptr && !output_.empty()) {
      iovec vec[64];
      int count = 0;
      size_t offset = output_offset_;
      for (auto it = output_.begin(); it != output_.end() && count < 64; ++it, offset = 0) {
        vec[count].iov_base = const_cast<char*>(it->data() + offset);
        vec[count].iov_len = it->size() - offset;
        ++count;
      }
      const ssize_t n = SendBuffers(fd_.get(), vec, count);
      if (n < 0) {
        if (errno != EAGAIN && errno != EINTR) write_error = errno;
        break;
      }
      size_t written = static_cast<size_t>(n);
      SubtractQueuedLocked(written);
      while (written > 0) {
        const size_t left_in_front = output_.front().size() - output_offset_;
        if (written >= left_in_front) {
          written -= left_in_front;
          output_.pop_front();
          output_offset_ = 0;
        } else {
          output_offset_ += written;
          written = 0;
        }
      }
      if (n == 0) break;
    }
    drained = output_.empty() && record_stage_.empty() &&
              (record_ == nullptr || !record_->HasUnsentOutput());
    // Until the loop has drained the queue, other threads append to it instead of writing.
    loop_flushes_ = !drained;
    queued = queued_bytes_.load(std::memory_order_relaxed);
  }
  if (write_error != 0) {
    HandleClose(absl::UnavailableError(absl::StrCat("write failed: ", std::strerror(write_error))));
    return;
  }
  if (!record_error.ok()) {
    HandleClose(record_error);
    return;
  }
  if (drained) {
    if (watcher_->IsWriting() && !read_wants_write_) watcher_->DisableWriting();
    if (state_ == State::kShuttingDown || state_ == State::kLingering) ShutdownWrite();
    if (state_ == State::kLingering) {
      CloseIfDrained();
      if (state_ == State::kClosed) return;
    }
  } else if (!watcher_->IsWriting()) {
    watcher_->EnableWriting();
  }
  FireWatermark(queued);
}

void Connection::HandleWrite() {
  if (read_wants_write_) {
    read_wants_write_ = false;
    HandleRead();
    if (state_ == State::kClosed) return;
  }
  Flush();
}

bool Connection::OutputEmpty() {
  std::lock_guard<std::mutex> lock(output_mu_);
  return output_.empty() && record_stage_.empty() &&
         (record_ == nullptr || !record_->HasUnsentOutput());
}

void Connection::ShutdownWrite() {
  if (record_ != nullptr) {
    std::lock_guard<std::mutex> lock(output_mu_);
    if (fd_.valid()) record_->SendCloseNotify();
    if (record_->OwnsTransport()) return;
  }
  ::shutdown(fd_.get(), SHUT_WR);
}

void Connection::FlushRecordsLocked(absl::Status* error) {
  // The records of this batch leave together (one send for several, like the plain writev).
  record_->Cork();
  WriteRecordsLocked(error);
  RecordIo sent = record_->Uncork();
  if (sent.kind == RecordIo::Kind::kError && error->ok()) *error = sent.error;
}

void Connection::WriteRecordsLocked(absl::Status* error) {
  while (!record_stage_.empty() || !output_.empty()) {
    // The stage first: after kWantWrite the layer must be offered the same bytes again.
    if (record_stage_.empty() &&
        output_.front().size() - output_offset_ < RecordLayer::kMaxRecordBytes &&
        output_.size() > 1) {
      while (!output_.empty()) {
        const size_t left = output_.front().size() - output_offset_;
        if (record_stage_.size() + left > RecordLayer::kMaxRecordBytes) break;
        record_stage_.append(output_.front(), output_offset_, left);
        output_offset_ = 0;
        output_.pop_front();
      }
    }
    const bool staged = !record_stage_.empty();
    const char* data = staged ? record_stage_.data() : output_.front().data() + output_offset_;
    const size_t size = staged ? record_stage_.size() : output_.front().size() - output_offset_;
    RecordIo io = record_->Write(data, size);
    if (io.kind == RecordIo::Kind::kWantWrite) return;
    if (io.kind != RecordIo::Kind::kOk) {
      *error = io.kind == RecordIo::Kind::kError
                   ? io.error
                   : absl::UnavailableError("TLS write: the session cannot write now");
      return;
    }
    SubtractQueuedLocked(io.bytes);
    if (staged) {
      record_stage_.erase(0, io.bytes);
    } else {
      output_offset_ += io.bytes;
      if (output_offset_ == output_.front().size()) {
        output_.pop_front();
        output_offset_ = 0;
      }
    }
  }
}

size_t Connection::WriteRecordsDirectLocked(std::string* head, absl::string_view* tail,
                                            absl::Status* error) {
  // Small: one record, for the price of copying the tail. Large: the tail from where it is.
  if (!tail->empty() && head->size() + tail->size() <= RecordLayer::kMaxRecordBytes) {
    head->append(tail->data(), tail->size());
    *tail = absl::string_view();
  }
  size_t written = 0;
  record_->Cork();
  for (absl::string_view piece : {absl::string_view(*head), *tail}) {
    while (!piece.empty() && error->ok()) {
      RecordIo io = record_->Write(piece.data(), piece.size());
      if (io.kind == RecordIo::Kind::kWantWrite) break;
      if (io.kind != RecordIo::Kind::kOk) {
        *error = io.kind == RecordIo::Kind::kError
                     ? io.error
                     : absl::UnavailableError("TLS write: the session cannot write now");
        break;
      }
      piece.remove_prefix(io.bytes);
      written += io.bytes;
    }
    if (!piece.empty()) break;
  }
  RecordIo sent = record_->Uncork();
  if (sent.kind == RecordIo::Kind::kError && error->ok()) *error = sent.error;
  return written;
}

bool Connection::InputPending() {
  if (record_ != nullptr && record_->OwnsTransport()) {
    std::lock_guard<std::mutex> lock(output_mu_);
    return record_->HasBufferedInput();
  }
  int unread = 0;
  return ::ioctl(fd_.get(), FIONREAD, &unread) != 0 || unread > 0;
}

void Connection::CloseIfDrained() {
  if (!OutputEmpty() || InputPending()) return;
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
      std::lock_guard<std::mutex> lock(output_mu_);
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
    std::lock_guard<std::mutex> lock(output_mu_);
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
  {
    // At once, not in the loop task: a Send() this thread makes after Shutdown() must be dropped,
    // and other threads' sends do not wait for the loop.
    std::lock_guard<std::mutex> lock(output_mu_);
    CloseOutputLocked();
  }
  loop_->RunInLoop([self = shared_from_this()] {
    if (self->state_ != State::kOpen) return;
    self->state_ = State::kShuttingDown;
    // Otherwise Flush() shuts the write side once the queue is written.
    if (self->OutputEmpty()) self->ShutdownWrite();
  });
}

void Connection::ForceClose(absl::Status reason) {
  {
    std::lock_guard<std::mutex> lock(output_mu_);
    CloseOutputLocked();
  }
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
  // What the callback sent (typically the replies to what it read) goes out in one write. The
  // check reads the atomic count rather than taking output_mu_, which another thread may hold for
  // a whole sendmsg of a large frame: this thread's own sends are seen (it wrote the count), and
  // what another thread left queued has a flush scheduled by that thread (SendDirect).
  if (state_ != State::kClosed && !watcher_->IsWriting() && !flush_scheduled_ &&
      queued_bytes_.load(std::memory_order_relaxed) > 0) {
    Flush();
  }
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
  {
    // Close the socket now rather than with the last reference, so that fd usage is bounded by
    // the open connections, not by whoever still holds a pointer to a dead one. Under
    // output_mu_, so no other thread is writing to it and none will.
    std::lock_guard<std::mutex> lock(output_mu_);
    CloseOutputLocked();
    if (record_ != nullptr) record_->Close();
    fd_.reset();
    output_.clear();
    record_stage_.clear();
    output_offset_ = 0;
    loop_flushes_ = false;
    SubtractQueuedLocked(queued_bytes_.load(std::memory_order_relaxed));
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
  std::lock_guard<std::mutex> lock(output_mu_);
  output_.ReleaseIfEmpty();
  if (record_stage_.empty()) std::string().swap(record_stage_);
  if (record_ != nullptr && fd_.valid()) record_->ReleaseIdleBuffers();
}

size_t Connection::buffer_bytes_held() {
  std::lock_guard<std::mutex> lock(output_mu_);
  const size_t stage =
      record_stage_.capacity() > std::string().capacity() ? record_stage_.capacity() : 0;
  return input_.capacity() + output_.capacity() * sizeof(std::string) + stage;
}

void Connection::SendAndClose(std::string bytes, absl::Status reason, absl::Duration linger) {
  {
    // Queued at once, behind everything sent before and ahead of nothing: later sends are dropped.
    std::lock_guard<std::mutex> lock(output_mu_);
    if (output_open_ && !bytes.empty()) {
      AddQueuedLocked(bytes.size());
      output_.push_back(std::move(bytes));
      loop_flushes_ = true;
    }
    CloseOutputLocked();
  }
  loop_->RunInLoop([self = shared_from_this(), r = std::move(reason), linger]() mutable {
    if (self->state_ == State::kClosed || self->state_ == State::kLingering) return;
    self->state_ = State::kLingering;
    self->linger_reason_ = std::move(r);
    self->Flush();  // Shuts the write side once the output is written, and may close.
    if (self->state_ == State::kClosed) return;
    self->StartReading();
    std::weak_ptr<Connection> weak = self;
    self->linger_timer_ = self->loop_->RunAfter(linger, [weak] {
      if (auto c = weak.lock()) {
        c->linger_timer_ = 0;
        c->HandleClose(c->linger_reason_);
      }
    });
  });
}

}  // namespace framerpc

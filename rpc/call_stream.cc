#include "rpc/call_stream.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace framerpc {

CallStream::CallStream(uint64_t call_id, FrameLimits limits, int64_t send_window,
                       int64_t recv_window, SendFn send, PostFn post)
    : call_id_(call_id),
      limits_(limits),
      recv_window_(recv_window),
      send_(std::move(send)),
      post_(std::move(post)),
      batch_bytes_(std::max<int64_t>(recv_window / 4, 1)),
      send_credit_(send_window),
      recv_credit_(recv_window) {}

std::string CallStream::EncodeStreamFrame(const google::protobuf::MessageLite* message,
                                          absl::string_view attachment, uint32_t flags,
                                          absl::Status* status) const {
  Envelope envelope;
  envelope.set_kind(STREAM_MESSAGE);
  envelope.set_call_id(call_id_);
  if (flags != 0) envelope.set_flags(flags);
  std::string frame;
  *status = EncodeFrame(std::move(envelope), message, attachment, limits_, &frame);
  return frame;
}

absl::Status CallStream::WriteErrorLocked() const {
  if (ended_) {
    return end_status_.ok() ? absl::CancelledError("the call has ended") : end_status_;
  }
  return absl::FailedPreconditionError("write after WritesDone()");
}

absl::Status CallStream::Write(const google::protobuf::MessageLite& message,
                               absl::string_view attachment) {
  // The attachment is not copied into the frame: it goes to send_ as the frame's tail.
  Envelope envelope;
  envelope.set_kind(STREAM_MESSAGE);
  envelope.set_call_id(call_id_);
  std::string head;
  absl::Status encoded =
      EncodeFrameHead(std::move(envelope), &message, attachment.size(), limits_, &head);
  if (!encoded.ok()) return encoded;
  const int64_t cost = static_cast<int64_t>(head.size() - kFrameHeaderSize + attachment.size());
  absl::Duration waited = absl::ZeroDuration();
  WriteTicket ticket;
  {
    std::unique_lock<std::mutex> lock(mu_);
    // Read the clock only when there is no credit: the usual write has some.
    absl::Time waiting_since = absl::InfinitePast();
    while (!(ended_ || writes_done_ || send_credit_ > 0)) {
      if (waiting_since == absl::InfinitePast()) waiting_since = absl::Now();
      ++write_waiters_;  // reset to zero by whoever wakes us
      if (stall_timeout_ == absl::InfiniteDuration()) {
        cv_.wait(lock);
        continue;
      }
      if (cv_.wait_until(lock, absl::ToChronoTime(waiting_since + stall_timeout_)) ==
              std::cv_status::timeout &&
          !(ended_ || writes_done_ || send_credit_ > 0)) {
        if (write_waiters_ > 0) --write_waiters_;  // nobody woke us
        return absl::ResourceExhaustedError(absl::StrCat(
            "the peer has read nothing of this stream for ", absl::FormatDuration(stall_timeout_),
            "; giving up"));
      }
    }
    if (waiting_since != absl::InfinitePast()) waited = absl::Now() - waiting_since;
    if (ended_ || writes_done_) return WriteErrorLocked();
    send_credit_ -= cost;
    // Queued under mu_, so that it keeps its place before a half-close or another write; the
    // socket write happens below, outside mu_, so the I/O thread never waits for it.
    ticket = send_(std::move(head), attachment);
  }
  ticket.Write();
  if (waited > absl::ZeroDuration() && credit_wait_observer_) credit_wait_observer_(waited);
  return absl::OkStatus();
}

void CallStream::WriteAsync(const google::protobuf::MessageLite& message,
                            absl::string_view attachment, WriteDone done) {
  if (async_write_busy_->exchange(true)) {
    post_([done = std::move(done)]() mutable {
      done(absl::FailedPreconditionError(
          "WriteAsync while another WriteAsync is pending: one at a time"));
    });
    return;
  }
  // The write is outstanding until its callback starts, so that the callback may write the next.
  done = [busy = async_write_busy_, done = std::move(done)](absl::Status status) {
    busy->store(false);
    done(std::move(status));
  };
  absl::Status encoded;
  std::string frame = EncodeStreamFrame(&message, attachment, 0, &encoded);
  std::vector<WriteDone> completed;
  WriteTicket ticket;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (encoded.ok() && (ended_ || writes_done_)) encoded = WriteErrorLocked();
    if (encoded.ok()) {
      pending_writes_.push_back(PendingWrite{std::move(frame), std::move(done)});
      SendAllowedLocked(&completed, &ticket);
    }
  }
  ticket.Write();
  // Complete on the I/O thread, never inside this call.
  if (!encoded.ok()) {
    post_([done = std::move(done), encoded]() mutable { done(encoded); });
  } else if (!completed.empty()) {
    post_([completed = std::move(completed)]() mutable { RunWriteCallbacks(&completed); });
  }
}

void CallStream::RunWriteCallbacks(std::vector<WriteDone>* completed) {
  for (WriteDone& done : *completed) done(absl::OkStatus());
}

void CallStream::SendAllowedLocked(std::vector<WriteDone>* completed, WriteTicket* ticket) {
  // Frames are queued under the lock so that they leave in the order they were queued, whichever
  // thread releases them; the caller writes after releasing it.
  auto keep = [ticket](WriteTicket queued) {
    if (queued.holds_write()) *ticket = std::move(queued);
  };
  while (!pending_writes_.empty() && send_credit_ > 0 && !ended_) {
    PendingWrite& next = pending_writes_.front();
    send_credit_ -= static_cast<int64_t>(next.frame.size() - kFrameHeaderSize);
    keep(send_(std::move(next.frame), {}));
    completed->push_back(std::move(next.done));
    pending_writes_.pop_front();
  }
  if (writes_done_ && !half_close_sent_ && pending_writes_.empty() && !ended_) {
    half_close_sent_ = true;
    absl::Status ignored;
    keep(send_(EncodeStreamFrame(nullptr, {}, END_OF_STREAM, &ignored), {}));
  }
}

absl::Status CallStream::WritesDone() {
  Wakes wakes;
  std::vector<WriteDone> completed;
  WriteTicket ticket;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (ended_) return WriteErrorLocked();
    writes_done_ = true;
    SendAllowedLocked(&completed, &ticket);
    wakes = TakeWaitersLocked(/*reader=*/false);
  }
  ticket.Write();
  WakeUp(wakes);
  if (!completed.empty()) {
    post_([completed = std::move(completed)]() mutable { RunWriteCallbacks(&completed); });
  }
  return absl::OkStatus();
}

std::string CallStream::ConsumeLocked(uint32_t bytes) {
  consumed_ += bytes;
  if (ended_ || consumed_ < recv_window_ / 2) return std::string();
  Envelope envelope;
  envelope.set_kind(WINDOW_UPDATE);
  envelope.set_call_id(call_id_);
  envelope.set_window_update(static_cast<uint32_t>(consumed_));
  recv_credit_ += consumed_;
  consumed_ = 0;
  std::string frame;
  EncodeFrame(std::move(envelope), nullptr, {}, limits_, &frame).IgnoreError();
  return frame;
}

bool CallStream::Read(Frame* frame) {
  std::string update;
  {
    std::unique_lock<std::mutex> lock(mu_);
    while (queue_.empty() && !peer_half_closed_ && !ended_) {
      reader_asleep_ = true;  // cleared by whoever wakes us
      const uint32_t ticket = read_parker_.Ticket();
      lock.unlock();
      read_parker_.Wait(ticket);
      lock.lock();
    }
    // Awake, whoever woke us: a spurious return (a signal) can find messages no waker has yet
    // taken the flag for, and a later waker must not count us asleep.
    reader_asleep_ = false;
    if (queue_.empty()) return false;
    Queued next = std::move(queue_.front());
    queue_.pop_front();
    queued_bytes_ -= next.body_bytes;
    *frame = std::move(next.frame);
    update = ConsumeLocked(next.body_bytes);
  }
  if (!update.empty()) send_(std::move(update), {});
  return true;
}

void CallStream::ReadAsync(ReadDone done) {
  std::optional<Frame> ready;
  std::string update;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queue_.empty() && !peer_half_closed_ && !ended_) {
      pending_read_ = std::move(done);
      return;
    }
    if (!queue_.empty()) {
      Queued next = std::move(queue_.front());
      queue_.pop_front();
      queued_bytes_ -= next.body_bytes;
      ready = std::move(next.frame);
      update = ConsumeLocked(next.body_bytes);
    }
  }
  if (!update.empty()) send_(std::move(update), {});
  post_([done = std::move(done), ready = std::move(ready)]() mutable { done(std::move(ready)); });
}

void CallStream::DiscardIncoming() {
  std::string update;
  {
    std::lock_guard<std::mutex> lock(mu_);
    discard_ = true;
    uint32_t bytes = 0;
    for (const Queued& queued : queue_) bytes += queued.body_bytes;
    queue_.clear();
    queued_bytes_ = 0;
    if (bytes > 0) update = ConsumeLocked(bytes);
  }
  if (!update.empty()) send_(std::move(update), {});
}

void CallStream::WakeReaders() {
  Wakes wakes;
  {
    std::lock_guard<std::mutex> lock(mu_);
    wake_owed_ = false;
    wakes.reader = std::exchange(reader_asleep_, false);
  }
  WakeUp(wakes);
}

CallStream::Wakes CallStream::TakeWaitersLocked(bool reader) {
  Wakes wakes;
  if (reader) {
    wakes.reader = std::exchange(reader_asleep_, false);
  }
  // Every writer wakes; one that must wait again counts itself again.
  wakes.writers = std::exchange(write_waiters_, 0) > 0;
  return wakes;
}

void CallStream::WakeUp(Wakes wakes) {
  if (wakes.reader) read_parker_.Wake();
  if (wakes.writers) cv_.notify_all();
}

absl::Status CallStream::OnMessage(Frame frame, uint32_t body_bytes, bool* wake_owed) {
  Wakes wakes;
  ReadDone reader;
  std::string update;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (ended_) return absl::OkStatus();
    if (peer_half_closed_) {
      return absl::InvalidArgumentError("message after the end of the client stream");
    }
    if (recv_credit_ <= 0) return absl::ResourceExhaustedError("flow control window exceeded");
    recv_credit_ -= body_bytes;
    if (discard_) {
      update = ConsumeLocked(body_bytes);
    } else if (pending_read_) {
      reader = std::move(pending_read_);
      pending_read_ = nullptr;
      update = ConsumeLocked(body_bytes);
    } else {
      queued_bytes_ += body_bytes;
      queue_.push_back(Queued{std::move(frame), body_bytes});
    }
    if (reader_asleep_) {
      if (wake_owed == nullptr || queued_bytes_ >= batch_bytes_) {
        wakes.reader = std::exchange(reader_asleep_, false);  // a whole batch: at once
      } else if (!wake_owed_) {
        wake_owed_ = true;  // the caller calls WakeReaders() after the rest of the burst
        *wake_owed = true;
      }
    }
  }
  WakeUp(wakes);
  if (!update.empty()) send_(std::move(update), {});
  if (reader) reader(std::move(frame));
  return absl::OkStatus();
}

absl::Status CallStream::OnHalfClose() {
  Wakes wakes;
  ReadDone reader;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (ended_) return absl::OkStatus();
    if (peer_half_closed_) {
      return absl::InvalidArgumentError("message after the end of the client stream");
    }
    peer_half_closed_ = true;
    if (queue_.empty() && pending_read_) {
      reader = std::move(pending_read_);
      pending_read_ = nullptr;
    }
    wakes = TakeWaitersLocked(/*reader=*/true);
  }
  WakeUp(wakes);
  if (reader) reader(std::nullopt);
  return absl::OkStatus();
}

absl::Status CallStream::OnWindowUpdate(uint32_t credit) {
  Wakes wakes;
  std::vector<WriteDone> completed;
  WriteTicket ticket;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (ended_) return absl::OkStatus();
    if (credit == 0 || send_credit_ + credit > kMaxStreamCredit) {
      return absl::InvalidArgumentError("bad WINDOW_UPDATE");
    }
    send_credit_ += credit;
    SendAllowedLocked(&completed, &ticket);
    wakes = TakeWaitersLocked(/*reader=*/false);
  }
  ticket.Write();
  WakeUp(wakes);
  RunWriteCallbacks(&completed);
  return absl::OkStatus();
}

void CallStream::End(absl::Status status, bool keep_queued) {
  Wakes wakes;
  ReadDone reader;
  std::deque<PendingWrite> failed;
  absl::Status write_error;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (ended_) return;
    ended_ = true;
    end_status_ = std::move(status);
    if (!keep_queued || !end_status_.ok()) {
      queue_.clear();
      queued_bytes_ = 0;
    }
    if (pending_read_ && queue_.empty()) {
      reader = std::move(pending_read_);
      pending_read_ = nullptr;
    }
    failed.swap(pending_writes_);
    write_error = WriteErrorLocked();
    wakes = TakeWaitersLocked(/*reader=*/true);  // at once, never deferred
  }
  WakeUp(wakes);
  if (reader) reader(std::nullopt);
  for (PendingWrite& write : failed) write.done(write_error);
}

bool CallStream::ended() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ended_;
}

int64_t CallStream::queued_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queued_bytes_;
}

int CallStream::unwoken_waiters() const {
  std::lock_guard<std::mutex> lock(mu_);
  return write_waiters_ + (reader_asleep_ ? 1 : 0);
}

void WakeReadersWhenIdle(EventLoop* loop, std::vector<std::shared_ptr<CallStream>>* streams) {
  if (streams->empty()) return;
  loop->RunWhenIdle([taken = std::move(*streams)] {
    for (const std::shared_ptr<CallStream>& stream : taken) stream->WakeReaders();
  });
  streams->clear();
}

}  // namespace framerpc

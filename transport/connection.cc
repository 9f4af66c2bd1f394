#include "transport/connection.h"

#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <climits>
#include <cstring>

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
    HandleClose(absl::UnavailableError(absl::StrCat("socket error: ", SocketErrorText())));
  });
  watcher_->EnableReading();
}

std::string Connection::SocketErrorText() const {
  int err = 0;
  socklen_t len = sizeof(err);
  ::getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &err, &len);
  return err == 0 ? "hang-up" : std::strerror(err);
}

void Connection::Send(std::string bytes) {
  if (loop_->IsInLoopThread()) {
    SendInLoop(std::move(bytes));
  } else {
    loop_->QueueInLoop([self = shared_from_this(), b = std::move(bytes)]() mutable {
      self->SendInLoop(std::move(b));
    });
  }
}

void Connection::SendInLoop(std::string bytes) {
  if (state_ != State::kOpen || bytes.empty()) return;
  queued_bytes_ += bytes.size();
  output_.push_back(std::move(bytes));
  if (!above_high_water_ && queued_bytes_ > options_.output_high_water_bytes) {
    above_high_water_ = true;
    if (watermark_callback_) watermark_callback_(shared_from_this(), true);
  }
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

void Connection::Flush() {
  while (!output_.empty() && state_ != State::kClosed) {
    iovec vec[64];
    int count = 0;
    size_t offset = output_offset_;
    for (auto it = output_.begin(); it != output_.end() && count < 64; ++it, offset = 0) {
      vec[count].iov_base = const_cast<char*>(it->data() + offset);
      vec[count].iov_len = it->size() - offset;
      ++count;
    }
    // sendmsg with MSG_NOSIGNAL, not writev: a peer that has gone away must yield EPIPE here,
    // not a SIGPIPE that kills whatever process this library lives in.
    msghdr msg{};
    msg.msg_iov = vec;
    msg.msg_iovlen = static_cast<size_t>(count);
    const ssize_t n = ::sendmsg(fd_.get(), &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) break;
      HandleClose(absl::UnavailableError(absl::StrCat("write failed: ", std::strerror(errno))));
      return;
    }
    size_t written = static_cast<size_t>(n);
    queued_bytes_ -= written;
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
    if (static_cast<size_t>(n) == 0) break;
  }
  if (state_ == State::kClosed) return;
  if (output_.empty()) {
    if (watcher_->IsWriting()) watcher_->DisableWriting();
    if (state_ == State::kShuttingDown || state_ == State::kLingering) {
      ::shutdown(fd_.get(), SHUT_WR);
    }
    if (state_ == State::kLingering) {
      CloseIfDrained();
      if (state_ == State::kClosed) return;
    }
  } else if (!watcher_->IsWriting()) {
    watcher_->EnableWriting();
  }
  if (above_high_water_ && queued_bytes_ <= options_.output_high_water_bytes / 2) {
    above_high_water_ = false;
    if (watermark_callback_) watermark_callback_(shared_from_this(), false);
  }
}

void Connection::HandleWrite() { Flush(); }

void Connection::CloseIfDrained() {
  int unread = 0;
  if (!output_.empty() || ::ioctl(fd_.get(), FIONREAD, &unread) != 0 || unread > 0) return;
  input_.Consume(input_.readable_bytes());
  HandleClose(linger_reason_);
}

void Connection::HandleRead() {
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
  loop_->RunInLoop([self = shared_from_this()] {
    if (self->state_ != State::kOpen) return;
    self->state_ = State::kShuttingDown;
    if (self->output_.empty()) ::shutdown(self->fd_.get(), SHUT_WR);
  });
}

void Connection::ForceClose(absl::Status reason) {
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
  // What the callback sent (typically the replies to what it read) goes out in one write.
  if (state_ != State::kClosed && !output_.empty() && !watcher_->IsWriting() &&
      !flush_scheduled_) {
    Flush();
  }
}

void Connection::RedeliverInput() {
  if (state_ == State::kOpen && input_.readable_bytes() > 0) RunDataCallback();
}

void Connection::StartReading() {
  if (state_ != State::kClosed && !watcher_->IsReading()) watcher_->EnableReading();
}

void Connection::HandleClose(absl::Status reason) {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  if (linger_timer_ != 0) loop_->CancelTimer(linger_timer_);
  linger_timer_ = 0;
  watcher_->Remove();
  // Close the socket now rather than with the last reference, so that fd usage is bounded by the
  // open connections, not by whoever still holds a pointer to a dead one.
  fd_.reset();
  output_.clear();
  queued_bytes_ = 0;
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

void Connection::SendAndClose(std::string bytes, absl::Status reason, absl::Duration linger) {
  loop_->RunInLoop([self = shared_from_this(), b = std::move(bytes), r = std::move(reason),
                    linger]() mutable {
    if (self->state_ == State::kClosed || self->state_ == State::kLingering) return;
    self->state_ = State::kLingering;
    self->linger_reason_ = std::move(r);
    if (!b.empty()) {
      self->queued_bytes_ += b.size();
      self->output_.push_back(std::move(b));
    }
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

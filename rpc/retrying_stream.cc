#include "rpc/retrying_stream.h"

#include <atomic>
#include <mutex>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "rpc/channel.h"

namespace framerpc {

struct RetryingStream::Attempt {
  // Set before the attempt is current; moved out only by ~RetryingStream (under Core::mu).
  std::unique_ptr<ClientStreamBase> stream;
  std::function<void(const absl::Status&)> report;  // guarded by Core::mu; emptied when run
};

// What the stream object, its attempts' end hooks and its callbacks share.
class RetryingStream::Core : public std::enable_shared_from_this<Core> {
 public:
  Core(ClientContext* context, Opener open, PostFn post)
      : context_(context), open_(std::move(open)), post_(std::move(post)) {}

  // Under mu: the first attempt's hook, if it runs at once, waits until the attempt is current.
  bool OpenFirst(absl::Status* error);

  bool committed() const { return committed_.load(std::memory_order_acquire); }
  // Only once committed() (it no longer changes), or under mu.
  const std::shared_ptr<Attempt>& fixed_attempt() const { return current_; }
  std::shared_ptr<Attempt> Current() {
    std::lock_guard<std::mutex> lock(mu_);
    return current_;
  }
  // Whether `attempt` has been replaced: what failed on it has been (or is to be) made again on
  // the attempt now current.
  bool Replaced(const std::shared_ptr<Attempt>& attempt) {
    std::lock_guard<std::mutex> lock(mu_);
    return current_ != attempt;
  }

  // Takes the copy of a write (false: not kept, the stream is or becomes committed) and the
  // attempt to write to.
  bool BufferWrite(const google::protobuf::MessageLite& message, absl::string_view attachment,
                   uint64_t* seq, std::shared_ptr<Attempt>* attempt);
  // A copied write failed: true if it was replayed on a replacement (it counts as written),
  // otherwise its copy is dropped.
  bool WriteFailed(const std::shared_ptr<Attempt>& attempt, uint64_t seq);
  // Claims the one outstanding WriteAsync; false if one already is.
  bool ClaimAsyncWrite() {
    std::lock_guard<std::mutex> lock(mu_);
    if (async_write_busy_) return false;
    async_write_busy_ = true;
    return true;
  }
  void ReleaseAsyncWrite() {
    std::lock_guard<std::mutex> lock(mu_);
    async_write_busy_ = false;
  }
  // The caller half-closed (WritesDone, Finish); returns the attempt to tell.
  std::shared_ptr<Attempt> HalfClose() {
    std::lock_guard<std::mutex> lock(mu_);
    writes_done_ = true;
    return current_;
  }
  // A server message was given to the caller.
  void Delivered() {
    if (committed()) return;
    std::lock_guard<std::mutex> lock(mu_);
    CommitLocked();
  }
  // The attempt that replaced `attempt`, or null if none did (or the stream was dropped).
  std::shared_ptr<Attempt> Replacement(const std::shared_ptr<Attempt>& attempt) {
    std::lock_guard<std::mutex> lock(mu_);
    return closed_ || current_ == attempt ? nullptr : current_;
  }
  // Runs `op` with the attempt that replaced `attempt`, under mu_ so that the stream object,
  // being dropped, cannot take that attempt's stream meanwhile; false (`op` not run) if none did.
  template <typename Op>
  bool WithReplacement(const std::shared_ptr<Attempt>& attempt, Op op) {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_ || current_ == attempt) return false;
    op(current_);
    return true;
  }
  void Report(const std::shared_ptr<Attempt>& attempt, const absl::Status& status) {
    std::function<void(const absl::Status&)> report;
    {
      std::lock_guard<std::mutex> lock(mu_);
      report.swap(attempt->report);
    }
    if (report) report(status);
  }
  // ~RetryingStream: no more retries; returns the current attempt with its stream moved out.
  std::shared_ptr<Attempt> Close(std::unique_ptr<ClientStreamBase>* stream) {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    *stream = std::move(current_->stream);
    return current_;
  }
  void Post(std::function<void()> task) { post_(std::move(task)); }

  static void ReadAsyncOn(std::shared_ptr<Core> core, std::shared_ptr<Attempt> attempt,
                          google::protobuf::MessageLite* message, std::string* attachment,
                          std::function<void(bool ok)> done);
  static void FinishAsyncOn(std::shared_ptr<Core> core, std::shared_ptr<Attempt> attempt,
                            std::function<void(absl::Status)> done);

 private:
  struct Buffered {
    uint64_t seq;
    size_t bytes;
    std::unique_ptr<google::protobuf::MessageLite> message;
    std::string attachment;
  };

  StreamEndHook HookFor(const std::shared_ptr<Attempt>& attempt);
  // I/O thread, from `attempt`'s end hook.
  void AttemptEnded(const std::shared_ptr<Attempt>& attempt, const absl::Status& status,
                    bool unread_messages);
  // Requires mu_. Opens an attempt (the first if `failed` is null) and makes it current.
  bool OpenLocked(const absl::Status* failed, absl::Status* error);
  // Requires mu_. No retry from now on: the copies go.
  void CommitLocked() {
    committed_.store(true, std::memory_order_release);
    std::vector<Buffered>().swap(buffer_);
    buffered_bytes_ = 0;
  }

  ClientContext* const context_;  // the caller's: read only under mu_ while !closed_
  Opener open_;                   // used under mu_
  const PostFn post_;

  std::mutex mu_;
  std::shared_ptr<Attempt> current_;  // guarded by mu_; never changes once committed_
  std::atomic<bool> committed_{false};  // written under mu_
  bool closed_ = false;                 // guarded by mu_: the stream object is gone
  std::vector<Buffered> buffer_;        // guarded by mu_: the copies, in write order
  size_t buffered_bytes_ = 0;           // guarded by mu_
  uint64_t next_seq_ = 0;               // guarded by mu_
  bool writes_done_ = false;            // guarded by mu_
  bool async_write_busy_ = false;       // guarded by mu_ (uncommitted streams only)
};

bool RetryingStream::Core::OpenFirst(absl::Status* error) {
  std::lock_guard<std::mutex> lock(mu_);
  return OpenLocked(nullptr, error);
}

bool RetryingStream::Core::OpenLocked(const absl::Status* failed, absl::Status* error) {
  auto attempt = std::make_shared<Attempt>();
  absl::StatusOr<StreamAttempt> opened = open_(failed, HookFor(attempt));
  if (!opened.ok()) {
    *error = opened.status();
    return false;
  }
  attempt->stream = std::move(opened->stream);
  attempt->report = std::move(opened->report);
  // The replay: the new attempt has not started yet (it starts on the I/O thread, which is
  // running this when it is a retry), and its writes wait for no credit (see the bound).
  for (const Buffered& copy : buffer_) attempt->stream->Write(*copy.message, copy.attachment);
  if (writes_done_) attempt->stream->WritesDone();
  current_ = std::move(attempt);
  if (!opened->observed) CommitLocked();
  return true;
}

StreamEndHook RetryingStream::Core::HookFor(const std::shared_ptr<Attempt>& attempt) {
  return [weak_core = weak_from_this(), weak_attempt = std::weak_ptr<Attempt>(attempt)](
             const absl::Status& status, bool unread_messages) {
    std::shared_ptr<Core> core = weak_core.lock();
    std::shared_ptr<Attempt> attempt = weak_attempt.lock();
    if (core != nullptr && attempt != nullptr) {
      core->AttemptEnded(attempt, status, unread_messages);
    }
  };
}

void RetryingStream::Core::AttemptEnded(const std::shared_ptr<Attempt>& attempt,
                                        const absl::Status& status, bool unread_messages) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_ || attempt != current_ || committed() || !CallNeverSent(status)) return;
  if (unread_messages) {  // the server sent something for it: it has the call
    CommitLocked();
    return;
  }
  if (context_->cancel_requested() || absl::Now() >= context_->deadline()) return;
  // Reported first, so that the next pick passes the failed endpoint over.
  std::function<void(const absl::Status&)> report;
  report.swap(attempt->report);
  if (report) report(status);
  absl::Status ignored;  // nowhere else to go: this attempt's end is the stream's
  OpenLocked(&status, &ignored);
}

bool RetryingStream::Core::BufferWrite(const google::protobuf::MessageLite& message,
                                       absl::string_view attachment, uint64_t* seq,
                                       std::shared_ptr<Attempt>* attempt) {
  std::lock_guard<std::mutex> lock(mu_);
  *attempt = current_;
  if (committed() || writes_done_) return false;
  const size_t bytes = message.ByteSizeLong() + attachment.size() + kStreamRetryMessageOverhead;
  if (buffered_bytes_ + bytes > kStreamRetryBufferBytes) {
    CommitLocked();
    return false;
  }
  Buffered copy;
  copy.seq = *seq = next_seq_++;
  copy.bytes = bytes;
  copy.message.reset(message.New());
  copy.message->CheckTypeAndMergeFrom(message);
  copy.attachment = std::string(attachment);
  buffer_.push_back(std::move(copy));
  buffered_bytes_ += bytes;
  return true;
}

bool RetryingStream::Core::WriteFailed(const std::shared_ptr<Attempt>& attempt, uint64_t seq) {
  std::lock_guard<std::mutex> lock(mu_);
  if (current_ != attempt) return true;
  if (!buffer_.empty() && buffer_.back().seq == seq) {  // writes come one at a time: it is last
    buffered_bytes_ -= buffer_.back().bytes;
    buffer_.pop_back();
  }
  return false;
}

void RetryingStream::Core::ReadAsyncOn(std::shared_ptr<Core> core,
                                       std::shared_ptr<Attempt> attempt,
                                       google::protobuf::MessageLite* message,
                                       std::string* attachment,
                                       std::function<void(bool ok)> done) {
  ClientStreamBase* stream = attempt->stream.get();
  stream->ReadAsync(message, attachment,
                    [core = std::move(core), attempt = std::move(attempt), message, attachment,
                     done = std::move(done)](bool ok) mutable {
                      if (ok) {
                        core->Delivered();
                        done(true);
                        return;
                      }
                      // Made again on the replacement; its ReadAsync never calls back inline.
                      if (!core->WithReplacement(attempt, [&](const std::shared_ptr<Attempt>& next) {
                            ReadAsyncOn(core, next, message, attachment, std::move(done));
                          })) {
                        done(false);
                      }
                    });
}

void RetryingStream::Core::FinishAsyncOn(std::shared_ptr<Core> core,
                                         std::shared_ptr<Attempt> attempt,
                                         std::function<void(absl::Status)> done) {
  ClientStreamBase* stream = attempt->stream.get();
  stream->FinishAsync([core = std::move(core), attempt = std::move(attempt),
                       done = std::move(done)](absl::Status status) mutable {
    if (core->WithReplacement(attempt, [&](const std::shared_ptr<Attempt>& next) {
          FinishAsyncOn(core, next, std::move(done));
        })) {
      return;
    }
    core->Report(attempt, status);
    done(std::move(status));
  });
}

std::unique_ptr<ClientStreamBase> RetryingStream::Start(ClientContext* context, Opener open,
                                                        PostFn post) {
  auto core = std::make_shared<Core>(context, std::move(open), std::move(post));
  absl::Status error;
  if (!core->OpenFirst(&error)) return FailedClientStream(std::move(error));
  return std::unique_ptr<ClientStreamBase>(new RetryingStream(std::move(core)));
}

RetryingStream::~RetryingStream() {
  std::unique_ptr<ClientStreamBase> stream;
  std::shared_ptr<Attempt> attempt = core_->Close(&stream);
  stream.reset();  // cancels the call if it has not finished
  core_->Report(attempt, absl::CancelledError("stream dropped unfinished"));
}

bool RetryingStream::Write(const google::protobuf::MessageLite& message,
                           absl::string_view attachment) {
  if (core_->committed()) return core_->fixed_attempt()->stream->Write(message, attachment);
  std::shared_ptr<Attempt> attempt;
  uint64_t seq = 0;
  const bool copied = core_->BufferWrite(message, attachment, &seq, &attempt);
  if (attempt->stream->Write(message, attachment)) return true;
  return copied && core_->WriteFailed(attempt, seq);
}

void RetryingStream::WriteAsync(const google::protobuf::MessageLite& message,
                                std::string attachment, std::function<void(bool ok)> done) {
  if (core_->committed()) {
    core_->fixed_attempt()->stream->WriteAsync(message, std::move(attachment), std::move(done));
    return;
  }
  // One at a time (rpc/stream.h), checked here: the attempt may be replaced by one on which no
  // write is outstanding.
  if (!core_->ClaimAsyncWrite()) {
    core_->Post([done = std::move(done)] { done(false); });
    return;
  }
  std::shared_ptr<Attempt> attempt;
  uint64_t seq = 0;
  const bool copied = core_->BufferWrite(message, attachment, &seq, &attempt);
  ClientStreamBase* stream = attempt->stream.get();
  stream->WriteAsync(message, std::move(attachment),
                     [core = core_, attempt = std::move(attempt), seq, copied,
                      done = std::move(done)](bool ok) {
                       if (!ok && copied) ok = core->WriteFailed(attempt, seq);
                       core->ReleaseAsyncWrite();  // before `done`, which may write the next
                       done(ok);
                     });
}

bool RetryingStream::WritesDone() {
  if (core_->committed()) return core_->fixed_attempt()->stream->WritesDone();
  std::shared_ptr<Attempt> attempt = core_->HalfClose();
  // On a replacement, the replay half-closed it.
  return attempt->stream->WritesDone() || core_->Replaced(attempt);
}

bool RetryingStream::Read(google::protobuf::MessageLite* message, std::string* attachment) {
  if (core_->committed()) return core_->fixed_attempt()->stream->Read(message, attachment);
  std::shared_ptr<Attempt> attempt = core_->Current();
  while (true) {
    if (attempt->stream->Read(message, attachment)) {
      core_->Delivered();
      return true;
    }
    attempt = core_->Replacement(attempt);
    if (attempt == nullptr) return false;
  }
}

void RetryingStream::ReadAsync(google::protobuf::MessageLite* message, std::string* attachment,
                               std::function<void(bool ok)> done) {
  if (core_->committed()) {
    core_->fixed_attempt()->stream->ReadAsync(message, attachment, std::move(done));
    return;
  }
  Core::ReadAsyncOn(core_, core_->Current(), message, attachment, std::move(done));
}

absl::Status RetryingStream::Finish() {
  std::shared_ptr<Attempt> attempt = core_->HalfClose();
  while (true) {
    absl::Status status = attempt->stream->Finish();
    std::shared_ptr<Attempt> next = core_->Replacement(attempt);
    if (next == nullptr) {
      core_->Report(attempt, status);
      return status;
    }
    attempt = std::move(next);
  }
}

void RetryingStream::FinishAsync(std::function<void(absl::Status)> done) {
  Core::FinishAsyncOn(core_, core_->HalfClose(), std::move(done));
}

}  // namespace framerpc

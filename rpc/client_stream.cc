#include "rpc/client_stream.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "rpc/call_access.h"
#include "rpc/client_frames.h"

namespace framerpc {

void ClientStreamState::Complete(absl::Status status) {
  std::function<void(absl::Status)> done;
  StreamEndHook hook;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (completed_) return;
    // Before completed_ is seen: a caller woken by it may destroy the context at once. From now
    // on TryCancel() does not reach the channel.
    if (context_ != nullptr) ClientCallAccess::Unbind(context_);
    if (end_hook_) {
      // Detached first: the hook may bind the context to another call, which this one must not
      // unbind (Detach) or read again.
      hook.swap(end_hook_);
      context_ = nullptr;
      response_ = nullptr;
    } else {
      completed_ = true;
      status_ = status;
      done = std::move(on_complete_);
    }
  }
  if (hook) {
    hook(status, flow_->queued_bytes() > 0);
    std::lock_guard<std::mutex> lock(mu_);
    if (completed_) return;
    completed_ = true;
    status_ = status;
    done = std::move(on_complete_);
  }
  // Server messages that arrived before an OK end stay readable; after an error they are dropped.
  flow_->End(status, /*keep_queued=*/status.ok());
  cv_.notify_all();
  if (done) done(std::move(status));
}

absl::Time ClientStreamState::deadline() const {
  std::lock_guard<std::mutex> lock(mu_);
  return context_ != nullptr ? context_->deadline() : absl::InfiniteFuture();
}

bool ClientStreamState::cancel_requested() const {
  std::lock_guard<std::mutex> lock(mu_);
  return context_ == nullptr || context_->cancel_requested();
}

absl::Status ClientStreamState::FinishFromResponse(const Frame& frame) {
  std::lock_guard<std::mutex> lock(mu_);
  if (context_ == nullptr) {
    return absl::Status(WireStatusCode(frame.envelope.status_code()),
                        frame.envelope.status_message());
  }
  return FinishCallFromResponse(frame, context_,
                                kind_ == MethodKind::kClientStreaming ? response_ : nullptr);
}

void ClientStreamState::Detach() {
  std::lock_guard<std::mutex> lock(mu_);
  if (completed_ || context_ == nullptr) return;
  ClientCallAccess::Unbind(context_);
  context_ = nullptr;
  response_ = nullptr;
}

bool ClientStreamState::completed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return completed_;
}

absl::Status ClientStreamState::Wait() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return completed_; });
  return status_;
}

void ClientStreamState::OnComplete(std::function<void(absl::Status)> done,
                                   const std::function<void(std::function<void()>)>& post) {
  absl::Status status;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!completed_) {
      on_complete_ = std::move(done);
      return;
    }
    status = status_;
  }
  post([done = std::move(done), status = std::move(status)]() mutable { done(std::move(status)); });
}

ClientStreamImpl::~ClientStreamImpl() {
  if (!state_->completed()) {
    // The caller's context and response may go right after this object: the call completes
    // later, on the I/O thread, without them.
    state_->Detach();
    owner_->FailStream(state_->id(), absl::CancelledError("stream destroyed before it finished"));
  }
}

bool ClientStreamImpl::Write(const google::protobuf::MessageLite& message,
                             absl::string_view attachment) {
  return state_->flow()->Write(message, attachment).ok();
}

void ClientStreamImpl::WriteAsync(const google::protobuf::MessageLite& message,
                                  std::string attachment, std::function<void(bool ok)> done) {
  state_->flow()->WriteAsync(message, attachment,
                             [done = std::move(done)](absl::Status status) { done(status.ok()); });
}

bool ClientStreamImpl::WritesDone() { return state_->flow()->WritesDone().ok(); }

namespace {

// Parses a server message into `message`; on failure ends the call with INTERNAL.
bool Deliver(Frame& frame, uint64_t id, ClientStreamOwner* owner,
             google::protobuf::MessageLite* message, std::string* attachment) {
  const absl::string_view bytes = frame.message_bytes();
  if (!message->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    owner->FailStream(id, absl::InternalError(absl::StrCat("server message is not a valid ",
                                                           message->GetTypeName())));
    return false;
  }
  if (attachment != nullptr) frame.TakeAttachment(attachment);
  return true;
}

}  // namespace

bool ClientStreamImpl::Read(google::protobuf::MessageLite* message, std::string* attachment) {
  Frame frame;
  if (!state_->flow()->Read(&frame)) return false;
  return Deliver(frame, state_->id(), owner_, message, attachment);
}

void ClientStreamImpl::ReadAsync(google::protobuf::MessageLite* message, std::string* attachment,
                                 std::function<void(bool ok)> done) {
  // The stream object may be gone by the time the callback runs; the state is not.
  std::shared_ptr<ClientStreamState> state = state_;
  ClientStreamOwner* owner = owner_;
  state_->flow()->ReadAsync([state, owner, message, attachment,
                             done = std::move(done)](std::optional<Frame> frame) {
    done(frame.has_value() && Deliver(*frame, state->id(), owner, message, attachment));
  });
}

absl::Status ClientStreamImpl::Finish() {
  state_->flow()->WritesDone().IgnoreError();  // a no-op once the call has ended
  state_->flow()->DiscardIncoming();
  return state_->Wait();
}

void ClientStreamImpl::FinishAsync(std::function<void(absl::Status)> done) {
  state_->flow()->WritesDone().IgnoreError();
  state_->flow()->DiscardIncoming();
  ClientStreamOwner* owner = owner_;
  state_->OnComplete(std::move(done),
                     [owner](std::function<void()> task) { owner->Post(std::move(task)); });
}

namespace {

class FailedStream final : public ClientStreamBase {
 public:
  explicit FailedStream(absl::Status status) : status_(std::move(status)) {}
  bool Write(const google::protobuf::MessageLite&, absl::string_view) override { return false; }
  void WriteAsync(const google::protobuf::MessageLite&, std::string,
                  std::function<void(bool ok)> done) override {
    done(false);
  }
  bool WritesDone() override { return false; }
  bool Read(google::protobuf::MessageLite*, std::string*) override { return false; }
  void ReadAsync(google::protobuf::MessageLite*, std::string*,
                 std::function<void(bool ok)> done) override {
    done(false);
  }
  absl::Status Finish() override { return status_; }
  void FinishAsync(std::function<void(absl::Status)> done) override { done(status_); }

 private:
  absl::Status status_;
};

}  // namespace

std::unique_ptr<ClientStreamBase> FailedClientStream(absl::Status status) {
  return std::make_unique<FailedStream>(std::move(status));
}

}  // namespace framerpc

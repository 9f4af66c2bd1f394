#include "rpc/observed_channel.h"

#include <atomic>
#include <utility>

namespace framerpc {
namespace {

FinishedCall Finished(CallTransport transport, absl::StatusCode code, absl::Time started,
                      uint64_t request_bytes, uint64_t response_bytes, bool unary) {
  FinishedCall call{};
  call.context = nullptr;  // a client call has no ServerContext
  call.transport = transport;
  call.code = code;
  call.duration = absl::Now() - started;
  call.request_bytes = request_bytes;
  call.response_bytes = response_bytes;
  call.unary = unary;
  return call;
}

// Counts the messages of a stream and reports its end once: at Finish, or, for a stream dropped
// unfinished (which cancels the call), at its destruction.
class ObservedStream final : public ClientStreamBase {
 public:
  ObservedStream(std::unique_ptr<ClientStreamBase> inner, CallObserver* observer,
                 CallObserver::MethodHandle method, CallTransport transport)
      : inner_(std::move(inner)),
        observer_(observer),
        method_(method),
        transport_(transport),
        started_(absl::Now()) {}
  ~ObservedStream() override {
    inner_.reset();
    Report(absl::StatusCode::kCancelled);
  }

  bool Write(const google::protobuf::MessageLite& message, absl::string_view attachment) override {
    const size_t bytes = message.ByteSizeLong() + attachment.size();
    const bool ok = inner_->Write(message, attachment);
    if (ok) observer_->OnStreamMessage(method_, transport_, /*received=*/false, bytes);
    return ok;
  }
  void WriteAsync(const google::protobuf::MessageLite& message, std::string attachment,
                  std::function<void(bool ok)> done) override {
    const size_t bytes = message.ByteSizeLong() + attachment.size();
    inner_->WriteAsync(message, std::move(attachment),
                       [this, bytes, done = std::move(done)](bool ok) {
                         if (ok) {
                           observer_->OnStreamMessage(method_, transport_, /*received=*/false,
                                                      bytes);
                         }
                         done(ok);
                       });
  }
  bool WritesDone() override { return inner_->WritesDone(); }
  bool Read(google::protobuf::MessageLite* message, std::string* attachment) override {
    const bool ok = inner_->Read(message, attachment);
    if (ok) OnReceived(*message, attachment);
    return ok;
  }
  void ReadAsync(google::protobuf::MessageLite* message, std::string* attachment,
                 std::function<void(bool ok)> done) override {
    inner_->ReadAsync(message, attachment,
                      [this, message, attachment, done = std::move(done)](bool ok) {
                        if (ok) OnReceived(*message, attachment);
                        done(ok);
                      });
  }
  absl::Status Finish() override {
    absl::Status status = inner_->Finish();
    Report(status.code());
    return status;
  }
  void FinishAsync(std::function<void(absl::Status)> done) override {
    inner_->FinishAsync([this, done = std::move(done)](absl::Status status) {
      Report(status.code());
      done(std::move(status));
    });
  }

 private:
  void OnReceived(const google::protobuf::MessageLite& message, const std::string* attachment) {
    observer_->OnStreamMessage(method_, transport_, /*received=*/true,
                               message.ByteSizeLong() + (attachment ? attachment->size() : 0));
  }
  void Report(absl::StatusCode code) {
    if (reported_.exchange(true)) return;
    observer_->OnFinished(method_, Finished(transport_, code, started_, 0, 0, /*unary=*/false));
  }

  std::unique_ptr<ClientStreamBase> inner_;
  CallObserver* const observer_;
  const CallObserver::MethodHandle method_;
  const CallTransport transport_;
  const absl::Time started_;
  std::atomic<bool> reported_{false};
};

}  // namespace

ObservedChannel::ObservedChannel(std::unique_ptr<Channel> inner, CallObserver* observer,
                                 CallTransport transport)
    : inner_(std::move(inner)), observer_(observer), transport_(transport) {}

CallObserver::MethodHandle ObservedChannel::Handle(absl::string_view method, MethodKind kind) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = handles_.find(method);
  if (it != handles_.end()) return it->second;
  CallObserver::MethodHandle handle = observer_->RegisterMethod(method, kind);
  handles_.emplace(std::string(method), handle);
  return handle;
}

void ObservedChannel::StartCall(absl::string_view method, ClientContext* context,
                                const google::protobuf::MessageLite& request,
                                google::protobuf::MessageLite* response, DoneCallback done) {
  CallObserver::MethodHandle handle = Handle(method, MethodKind::kUnary);
  observer_->OnStarted(handle, transport_);
  const absl::Time started = absl::Now();
  const uint64_t request_bytes = request.ByteSizeLong() + context->request_attachment().size();
  inner_->StartCall(
      method, context, request, response,
      [this, handle, started, request_bytes, context, response,
       done = std::move(done)](absl::Status status) {
        const uint64_t response_bytes =
            status.ok() ? response->ByteSizeLong() + context->response_attachment().size() : 0;
        observer_->OnFinished(handle, Finished(transport_, status.code(), started, request_bytes,
                                               response_bytes, /*unary=*/true));
        done(std::move(status));
      });
}

absl::Status ObservedChannel::Call(absl::string_view method, ClientContext* context,
                                   const google::protobuf::MessageLite& request,
                                   google::protobuf::MessageLite* response) {
  CallObserver::MethodHandle handle = Handle(method, MethodKind::kUnary);
  observer_->OnStarted(handle, transport_);
  const absl::Time started = absl::Now();
  const uint64_t request_bytes = request.ByteSizeLong() + context->request_attachment().size();
  absl::Status status = inner_->Call(method, context, request, response);
  const uint64_t response_bytes =
      status.ok() ? response->ByteSizeLong() + context->response_attachment().size() : 0;
  observer_->OnFinished(handle, Finished(transport_, status.code(), started, request_bytes,
                                         response_bytes, /*unary=*/true));
  return status;
}

std::unique_ptr<ClientStreamBase> ObservedChannel::StartStream(
    absl::string_view method, MethodKind kind, ClientContext* context,
    google::protobuf::MessageLite* response) {
  CallObserver::MethodHandle handle = Handle(method, kind);
  observer_->OnStarted(handle, transport_);
  return std::make_unique<ObservedStream>(inner_->StartStream(method, kind, context, response),
                                          observer_, handle, transport_);
}

}  // namespace framerpc

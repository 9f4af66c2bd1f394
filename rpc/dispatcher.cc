#include "rpc/dispatcher.h"

#include "absl/strings/str_cat.h"
#include "base/spare_strings.h"
#include "rpc/call_access.h"

namespace framerpc {
namespace {

// The framed transport's side of a streaming call, as handlers see it.
class FramedServerStream final : public ServerStreamBase {
 public:
  // `observer` (may be null) hears of each message of the method `observed`.
  FramedServerStream(CallStream* stream, CallObserver* observer,
                     CallObserver::MethodHandle observed, CallTransport transport)
      : stream_(stream), observer_(observer), observed_(observed), transport_(transport) {}

  bool Read(google::protobuf::MessageLite* message, std::string* attachment) override {
    Frame frame;
    if (!error_.ok() || !stream_->Read(&frame)) return false;
    if (observer_ != nullptr) {
      observer_->OnStreamMessage(observed_, transport_, /*received=*/true, frame.payload_size());
    }
    const absl::string_view bytes = frame.message_bytes();
    if (!message->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      Fail(absl::InvalidArgumentError(
          absl::StrCat("request is not a valid ", message->GetTypeName())));
      return false;
    }
    if (attachment != nullptr) frame.TakeAttachment(attachment);
    return true;
  }

  bool Write(const google::protobuf::MessageLite& message, absl::string_view attachment) override {
    if (!error_.ok()) return false;
    absl::Status status = stream_->Write(message, attachment);
    if (status.ok()) {
      if (observer_ != nullptr) {
        observer_->OnStreamMessage(observed_, transport_, /*received=*/false,
                                   message.ByteSizeLong() + attachment.size());
      }
      return true;
    }
    if (absl::IsResourceExhausted(status)) Fail(status);  // over the frame limits
    return false;
  }

  // Overrides the handler's status when set.
  const absl::Status& error() const { return error_; }

 private:
  void Fail(absl::Status status) {
    error_ = status;
    stream_->End(std::move(status), /*keep_queued=*/false);
  }

  CallStream* stream_;
  CallObserver* const observer_;
  const CallObserver::MethodHandle observed_;
  const CallTransport transport_;
  absl::Status error_;
};

}  // namespace

Dispatcher::Dispatcher(FrameLimits limits, int worker_threads, CallObserver* observer)
    : limits_(limits),
      observer_(observer),
      workers_(std::make_unique<WorkerPool>(std::max(1, worker_threads))),
      stream_threads_(std::make_unique<ElasticThreadPool>()) {}

absl::Status Dispatcher::AddService(Service* service, ServiceOptions options) {
  for (const MethodEntry& entry : service->methods()) {
    if (methods_.contains(entry.full_name)) {
      return absl::AlreadyExistsError(absl::StrCat("method ", entry.full_name, " is already served"));
    }
  }
  if (options.own_threads < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("own_threads must not be negative, not ", options.own_threads));
  }
  OwnThreads* own = nullptr;
  if (options.own_threads > 0) {
    own_threads_.push_back(std::make_unique<OwnThreads>());
    own = own_threads_.back().get();
    own->service = service->descriptor()->full_name();
    own->threads = options.own_threads;
    own->pool = std::make_unique<WorkerPool>(options.own_threads);
  }
  for (const MethodEntry& entry : service->methods()) {
    Route route{entry.handler.get(), options.run_inline, &entry.full_name, own};
    if (observer_ != nullptr) {
      route.observed = observer_->RegisterMethod(entry.full_name, entry.handler->kind());
    }
    methods_.emplace(entry.full_name, route);
  }
  services_.push_back(service);
  return absl::OkStatus();
}

namespace {

// NewCall's work but for the method and the payload, which its two forms take differently.
std::shared_ptr<ServerCall> NewCallFromEnvelope(Envelope* envelope, std::string peer,
                                                const PeerIdentity& identity) {
  auto call = std::make_shared<ServerCall>();
  call->call_id = envelope->call_id();
  ServerContext* ctx = &call->context;
  *ServerCallAccess::mutable_peer(ctx) = std::move(peer);
  ServerCallAccess::set_peer_identity(ctx, identity);
  for (MetadataEntry& entry : *envelope->mutable_metadata()) {
    ServerCallAccess::mutable_client_metadata(ctx)->emplace_back(std::move(*entry.mutable_key()),
                                                                 std::move(*entry.mutable_value()));
  }
  ServerCallAccess::set_trace(ctx, TraceContext::ForServerCall(ctx->client_metadata()));
  ServerCallAccess::set_owner(ctx, call);
  if (envelope->timeout_us() > 0) {
    ServerCallAccess::set_deadline(ctx, absl::Now() + absl::Microseconds(envelope->timeout_us()));
  }
  call->arrival = absl::Now();
  return call;
}

}  // namespace

std::shared_ptr<ServerCall> Dispatcher::NewCall(Frame request, std::string peer,
                                                const PeerIdentity& identity) {
  std::shared_ptr<ServerCall> call =
      NewCallFromEnvelope(&request.envelope, std::move(peer), identity);
  ServerCallAccess::mutable_method(&call->context)->swap(*request.envelope.mutable_method());
  call->request_frame = std::move(request);
  return call;
}

std::shared_ptr<ServerCall> Dispatcher::NewCall(Frame* request, const Route* route,
                                                std::string peer, const PeerIdentity& identity) {
  std::shared_ptr<ServerCall> call =
      NewCallFromEnvelope(&request->envelope, std::move(peer), identity);
  if (route != nullptr) {
    ServerCallAccess::set_method_name(&call->context, route->full_name);
  } else {
    *ServerCallAccess::mutable_method(&call->context) = request->envelope.method();
  }
  Frame& frame = call->request_frame;
  frame.envelope.set_attachment_size(request->envelope.attachment_size());
  frame.payload.swap(request->payload);
  frame.detached.swap(request->detached);
  frame.attachment_detached = request->attachment_detached;
  return call;
}

void Dispatcher::RecordStarted(const Route* route, const ServerCall& call) const {
  if (observer_ == nullptr) return;
  observer_->OnStarted(route != nullptr ? route->observed : observer_->UnknownMethod(),
                       call.transport);
}

void Dispatcher::RecordFinished(const Route* route, const ServerCall& call, absl::StatusCode code,
                                uint64_t request_bytes, uint64_t response_bytes) const {
  if (observer_ == nullptr) return;
  observer_->OnFinished(
      route != nullptr ? route->observed : observer_->UnknownMethod(),
      FinishedCall{&call.context, call.transport, code, absl::Now() - call.arrival, request_bytes,
                   response_bytes,
                   route != nullptr && route->handler->kind() == MethodKind::kUnary});
}

void Dispatcher::RecordStreamMessage(const Route* route, const ServerCall& call, bool received,
                                     size_t bytes) const {
  if (observer_ == nullptr || route == nullptr) return;
  observer_->OnStreamMessage(route->observed, call.transport, received, bytes);
}

void Dispatcher::RecordRefusal(const ServerCall& call, const Route* route,
                               absl::StatusCode code) const {
  RecordStarted(route, call);
  RecordFinished(route, call, code, 0, 0);
}

std::string Dispatcher::OkResponse(uint64_t call_id, const google::protobuf::Message* message,
                                   absl::string_view attachment, absl::StatusCode* code) const {
  Envelope envelope;
  envelope.set_kind(RESPONSE);
  envelope.set_call_id(call_id);
  std::string frame;
  absl::Status encoded = EncodeFrame(std::move(envelope), message, attachment, limits_, &frame);
  if (code != nullptr) *code = encoded.code();
  if (!encoded.ok()) return ErrorResponse(call_id, encoded);
  return frame;
}

std::string Dispatcher::OkResponseHead(uint64_t call_id, const google::protobuf::Message* message,
                                       std::string* attachment, std::string* tail,
                                       absl::StatusCode* code) const {
  Envelope envelope;
  envelope.set_kind(RESPONSE);
  envelope.set_call_id(call_id);
  std::string head = SpareStrings::Take();  // a head written before, on this thread
  absl::Status encoded =
      EncodeFrameHead(std::move(envelope), message, attachment->size(), limits_, &head);
  *code = encoded.code();
  if (!encoded.ok()) return ErrorResponse(call_id, encoded);
  tail->swap(*attachment);
  return head;
}

std::string Dispatcher::ErrorResponse(uint64_t call_id, const absl::Status& status) const {
  Envelope envelope;
  envelope.set_kind(RESPONSE);
  envelope.set_call_id(call_id);
  envelope.set_status_code(static_cast<int>(status.code()));
  // Keep error frames within limits whatever the message: truncate a huge message.
  envelope.set_status_message(std::string(status.message().substr(0, 4096)));
  std::string frame;
  EncodeFrame(std::move(envelope), nullptr, {}, limits_, &frame).IgnoreError();
  return frame;
}

void Dispatcher::Dispatch(std::shared_ptr<ServerCall> call, bool allow_offload,
                          const ReplyFn& reply) {
  const Route* route = FindRoute(call->context.method());
  Dispatch(std::move(call), route, allow_offload, reply);
}

void Dispatcher::Dispatch(std::shared_ptr<ServerCall> call, const Route* found,
                          bool allow_offload, const ReplyFn& reply) {
  const std::string& method = call->context.method();
  if (found == nullptr) {
    RecordRefusal(*call, nullptr, absl::StatusCode::kUnimplemented);
    const uint64_t id = call->call_id;
    reply(std::move(call), ErrorResponse(id, absl::UnimplementedError(
                                                 absl::StrCat("unknown method '", method, "'"))));
    return;
  }
  const Route route = *found;
  if (observer_ != nullptr) observer_->OnStarted(route.observed, call->transport);
  if (route.handler->kind() != MethodKind::kUnary) {
    if (call->stream == nullptr) {
      RecordFinished(&route, *call, absl::StatusCode::kUnimplemented, 0, 0);
      const uint64_t id = call->call_id;
      reply(std::move(call),
            ErrorResponse(id, absl::UnimplementedError(absl::StrCat(
                                  "streaming method '", method,
                                  "' cannot be called over this transport"))));
      return;
    }
    stream_threads_->Submit([this, route, call = std::move(call), reply]() mutable {
      RunStream(route, std::move(call), reply);
    });
    return;
  }
  if (route.own_threads != nullptr) return RunOnOwnThreads(route, std::move(call), reply);
  if (route.run_inline || !allow_offload) {
    Run(route, std::move(call), reply);
  } else {
    workers_->Submit([this, route, call = std::move(call), reply]() mutable {
      Run(route, std::move(call), reply);
    });
  }
}

void Dispatcher::RunOnOwnThreads(const Route& route, std::shared_ptr<ServerCall> call,
                                 const ReplyFn& reply) {
  OwnThreads* own = route.own_threads;
  if (own->admitted.fetch_add(1, std::memory_order_acq_rel) >= own->threads) {
    own->admitted.fetch_sub(1, std::memory_order_acq_rel);
    RecordFinished(&route, *call, absl::StatusCode::kResourceExhausted, 0, 0);
    const uint64_t id = call->call_id;
    reply(std::move(call),
          ErrorResponse(id, absl::ResourceExhaustedError(absl::StrCat(
                                own->service, " is busy: all ", own->threads,
                                " of its threads are serving calls; retry later"))));
    return;
  }
  own->pool->Submit([this, route, call = std::move(call), reply]() mutable {
    Run(route, std::move(call),
        [own = route.own_threads, &reply](std::shared_ptr<ServerCall> done, std::string frame) {
          own->admitted.fetch_sub(1, std::memory_order_acq_rel);
          reply(std::move(done), std::move(frame));
        });
  });
}

void Dispatcher::StopWorkers() {
  workers_->Stop();
  for (auto& own : own_threads_) own->pool->Stop();
  stream_threads_->Stop();
}

void Dispatcher::Run(const Route& route, std::shared_ptr<ServerCall> call,
                     const ReplyFn& reply) const {
  const uint64_t id = call->call_id;
  CallMessagesPtr messages = route.handler->NewCallMessages();
  google::protobuf::Message* request_message = messages->request();
  const absl::string_view bytes = call->request_frame.message_bytes();
  const uint64_t request_bytes = call->request_frame.payload_size();
  if (!request_message->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    RecordFinished(&route, *call, absl::StatusCode::kInvalidArgument, request_bytes, 0);
    reply(std::move(call), ErrorResponse(id, absl::InvalidArgumentError(absl::StrCat(
                                                 "request is not a valid ",
                                                 request_message->GetDescriptor()->full_name()))));
    return;
  }
  if (call->request_frame.envelope.attachment_size() > 0) {
    if (call->request_frame.AttachmentTakenWhole()) {  // the context's own: TakeRequestAttachment
      std::string attachment;
      call->request_frame.TakeAttachment(&attachment);
      ServerCallAccess::set_owned_request_attachment(&call->context, std::move(attachment));
    } else {
      ServerCallAccess::set_request_attachment(&call->context, call->request_frame.attachment());
    }
  } else {
    // The message has its own copy now and nothing points into the payload: a large request
    // costs its message alone while the handler runs, not that and the frame.
    std::string().swap(call->request_frame.payload);
  }
  google::protobuf::Message* response_message = messages->response();
  absl::Status status = route.handler->Invoke(&call->context, *request_message, response_message);
  messages->ReleaseRequest();  // before the response is encoded: at most it and its frame at once
  if (!status.ok()) {
    RecordFinished(&route, *call, status.code(), request_bytes, 0);
    reply(std::move(call), ErrorResponse(id, status));
    return;
  }
  absl::StatusCode code = absl::StatusCode::kOk;
  std::string frame =
      call->separate_reply_tail
          ? OkResponseHead(id, response_message, call->context.mutable_response_attachment(),
                           &call->reply_tail, &code)
          : OkResponse(id, response_message, *call->context.mutable_response_attachment(), &code);
  messages.reset();  // encoded: the frame alone goes on
  std::string().swap(*call->context.mutable_response_attachment());
  const size_t response_bytes = frame.size() + call->reply_tail.size();
  RecordFinished(&route, *call, code, request_bytes,
                 code == absl::StatusCode::kOk ? response_bytes : 0);
  reply(std::move(call), std::move(frame));
}

void Dispatcher::RunStream(const Route& route, std::shared_ptr<ServerCall> call,
                           const ReplyFn& reply) const {
  const MethodHandler* handler = route.handler;
  const uint64_t id = call->call_id;
  FramedServerStream stream(call->stream.get(), observer_, route.observed, call->transport);
  std::unique_ptr<google::protobuf::Message> response = handler->NewResponse();
  absl::Status status = handler->InvokeStream(&call->context, &stream, response.get());
  if (!stream.error().ok()) status = stream.error();
  if (!status.ok()) {
    RecordFinished(&route, *call, status.code(), 0, 0);
    reply(std::move(call), ErrorResponse(id, status));
    return;
  }
  // Only a client-streaming call's RESPONSE carries the response message (protocol.md §11).
  absl::StatusCode code = absl::StatusCode::kOk;
  std::string frame =
      handler->kind() == MethodKind::kClientStreaming
          ? OkResponse(id, response.get(), *call->context.mutable_response_attachment(), &code)
          : OkResponse(id, nullptr, {}, &code);
  RecordFinished(&route, *call, code, 0, 0);
  response.reset();
  std::string().swap(*call->context.mutable_response_attachment());
  reply(std::move(call), std::move(frame));
}

}  // namespace framerpc

#include "rpc/dispatcher.h"

#include "absl/strings/str_cat.h"
#include "rpc/call_access.h"

namespace framerpc {
namespace {

// The framed transport's side of a streaming call, as handlers see it.
class FramedServerStream final : public ServerStreamBase {
 public:
  explicit FramedServerStream(CallStream* stream) : stream_(stream) {}

  bool Read(google::protobuf::MessageLite* message, std::string* attachment) override {
    Frame frame;
    if (!error_.ok() || !stream_->Read(&frame)) return false;
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
    if (status.ok()) return true;
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
  absl::Status error_;
};

}  // namespace

Dispatcher::Dispatcher(FrameLimits limits, int worker_threads)
    : limits_(limits),
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
    methods_.emplace(entry.full_name, Route{entry.handler.get(), options.run_inline, own});
  }
  services_.push_back(service);
  return absl::OkStatus();
}

std::shared_ptr<ServerCall> Dispatcher::NewCall(Frame request, std::string peer,
                                                const PeerIdentity& identity) {
  auto call = std::make_shared<ServerCall>();
  call->call_id = request.envelope.call_id();
  ServerContext* ctx = &call->context;
  ServerCallAccess::mutable_method(ctx)->swap(*request.envelope.mutable_method());
  *ServerCallAccess::mutable_peer(ctx) = std::move(peer);
  ServerCallAccess::set_peer_identity(ctx, identity);
  for (MetadataEntry& entry : *request.envelope.mutable_metadata()) {
    ServerCallAccess::mutable_client_metadata(ctx)->emplace_back(std::move(*entry.mutable_key()),
                                                                 std::move(*entry.mutable_value()));
  }
  if (request.envelope.timeout_us() > 0) {
    ServerCallAccess::set_deadline(ctx,
                                   absl::Now() + absl::Microseconds(request.envelope.timeout_us()));
  }
  call->request_frame = std::move(request);
  return call;
}

std::string Dispatcher::OkResponse(uint64_t call_id, const google::protobuf::Message* message,
                                   absl::string_view attachment) const {
  Envelope envelope;
  envelope.set_kind(RESPONSE);
  envelope.set_call_id(call_id);
  std::string frame;
  absl::Status encoded = EncodeFrame(std::move(envelope), message, attachment, limits_, &frame);
  if (!encoded.ok()) return ErrorResponse(call_id, encoded);
  return frame;
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
    const uint64_t id = call->call_id;
    reply(std::move(call), ErrorResponse(id, absl::UnimplementedError(
                                                 absl::StrCat("unknown method '", method, "'"))));
    return;
  }
  const Route route = *found;
  if (route.handler->kind() != MethodKind::kUnary) {
    if (call->stream == nullptr) {
      const uint64_t id = call->call_id;
      reply(std::move(call),
            ErrorResponse(id, absl::UnimplementedError(absl::StrCat(
                                  "streaming method '", method,
                                  "' cannot be called over this transport"))));
      return;
    }
    stream_threads_->Submit([this, handler = route.handler, call = std::move(call), reply]() mutable {
      RunStream(handler, std::move(call), reply);
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
  std::unique_ptr<google::protobuf::Message> request = route.handler->NewRequest();
  const absl::string_view bytes = call->request_frame.message_bytes();
  if (!request->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    reply(std::move(call),
          ErrorResponse(id, absl::InvalidArgumentError(absl::StrCat(
                                "request is not a valid ", request->GetDescriptor()->full_name()))));
    return;
  }
  if (call->request_frame.envelope.attachment_size() > 0) {
    ServerCallAccess::set_request_attachment(&call->context, call->request_frame.attachment());
  } else {
    // The message has its own copy now and nothing points into the payload: a large request
    // costs its message alone while the handler runs, not that and the frame.
    std::string().swap(call->request_frame.payload);
  }
  std::unique_ptr<google::protobuf::Message> response = route.handler->NewResponse();
  absl::Status status = route.handler->Invoke(&call->context, *request, response.get());
  request.reset();  // before the response is encoded: at most the response and its frame at once
  if (!status.ok()) {
    reply(std::move(call), ErrorResponse(id, status));
    return;
  }
  std::string frame =
      OkResponse(id, response.get(), *call->context.mutable_response_attachment());
  response.reset();  // encoded: the frame alone goes on
  std::string().swap(*call->context.mutable_response_attachment());
  reply(std::move(call), std::move(frame));
}

void Dispatcher::RunStream(const MethodHandler* handler, std::shared_ptr<ServerCall> call,
                           const ReplyFn& reply) const {
  const uint64_t id = call->call_id;
  FramedServerStream stream(call->stream.get());
  std::unique_ptr<google::protobuf::Message> response = handler->NewResponse();
  absl::Status status = handler->InvokeStream(&call->context, &stream, response.get());
  if (!stream.error().ok()) status = stream.error();
  if (!status.ok()) {
    reply(std::move(call), ErrorResponse(id, status));
    return;
  }
  // Only a client-streaming call's RESPONSE carries the response message (protocol.md §11).
  std::string frame =
      handler->kind() == MethodKind::kClientStreaming
          ? OkResponse(id, response.get(), *call->context.mutable_response_attachment())
          : OkResponse(id, nullptr, {});
  response.reset();
  std::string().swap(*call->context.mutable_response_attachment());
  reply(std::move(call), std::move(frame));
}

}  // namespace framerpc

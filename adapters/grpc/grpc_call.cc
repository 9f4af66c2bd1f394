#include "adapters/grpc/grpc_call.h"

#include <chrono>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "adapters/grpc/byte_buffers.h"
#include "rpc/call_access.h"
#include "transport/frame_codec.h"

#include <grpc/grpc_security_constants.h>

namespace framerpc::grpc_adapter {
namespace {

// framerpc uses the gRPC canonical codes, so a status crosses unchanged; only a code outside the
// canonical range (which gRPC would refuse) becomes UNKNOWN.
grpc::Status ToGrpcStatus(const absl::Status& status) {
  int code = static_cast<int>(status.code());
  if (code < 0 || code > static_cast<int>(grpc::StatusCode::UNAUTHENTICATED)) {
    code = static_cast<int>(grpc::StatusCode::UNKNOWN);
  }
  return grpc::Status(static_cast<grpc::StatusCode>(code), std::string(status.message()));
}

// Metadata gRPC itself owns: pseudo-headers and the grpc- reserved prefix.
bool IsTransportMetadata(absl::string_view key) {
  return absl::StartsWith(key, ":") || absl::StartsWith(key, "grpc-");
}

absl::Status AttachmentError() {
  return absl::UnimplementedError(
      "the method sends a raw attachment, which gRPC cannot carry; call it over the framed "
      "transport");
}

}  // namespace

namespace {

// A call on the adapter's TLS port: its client certificate's SANs, as gRPC verified them.
void AddTlsIdentity(const grpc::ServerContext& context, PeerIdentity* identity) {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr) return;
  for (const grpc::string_ref& type :
       auth->FindPropertyValues(GRPC_TRANSPORT_SECURITY_TYPE_PROPERTY_NAME)) {
    if (type == GRPC_SSL_TRANSPORT_SECURITY_TYPE) identity->tls = true;
  }
  if (!identity->tls || !auth->IsPeerAuthenticated()) return;
  identity->tls_client_certificate = true;
  for (const grpc::string_ref& uri : auth->FindPropertyValues(GRPC_PEER_URI_PROPERTY_NAME)) {
    identity->tls_uri_sans.emplace_back(uri.data(), uri.size());
  }
  for (const grpc::string_ref& dns : auth->FindPropertyValues(GRPC_PEER_DNS_PROPERTY_NAME)) {
    identity->tls_dns_sans.emplace_back(dns.data(), dns.size());
  }
  for (const grpc::string_ref& subject :
       auth->FindPropertyValues(GRPC_X509_SUBJECT_PROPERTY_NAME)) {
    identity->tls_subject.assign(subject.data(), subject.size());
  }
}

}  // namespace

void GrpcCall::Arm() {
  context_.AsyncNotifyWhenDone(&done_);
  env_->service->RequestCall(&context_, &stream_, env_->cq, env_->cq, &requested_);
}

void GrpcCall::OnEvent(Op op, bool ok) {
  switch (op) {
    case Op::kRequested:
      if (!ok) {  // The server is shutting down; no end report will come.
        const CallEnvironment* env = env_;
        delete this;
        env->on_deleted();
        return;
      }
      env_->request_next();
      return Start();
    case Op::kRead: {
      std::unique_lock<std::mutex> lock(mu_);
      if (!streaming_) {
        lock.unlock();
        return OnUnaryRequest(ok);
      }
      read_done_ = true;
      read_ok_ = ok;
      cv_.notify_all();
      return;
    }
    case Op::kWrite: {
      std::lock_guard<std::mutex> lock(mu_);
      write_done_ = true;
      write_ok_ = ok;
      cv_.notify_all();
      return;
    }
    case Op::kFinish:
    case Op::kDone:
      return OnEnded(op);
  }
}

void GrpcCall::Start() {
  Frame frame;
  frame.envelope.set_kind(REQUEST);
  frame.envelope.set_call_id(1);
  frame.envelope.set_method(context_.method());

  const auto deadline = context_.deadline();
  if (deadline != std::chrono::system_clock::time_point::max()) {
    const int64_t remaining_us = std::chrono::duration_cast<std::chrono::microseconds>(
                                     deadline - std::chrono::system_clock::now())
                                     .count();
    if (remaining_us <= 0) return Finish(absl::DeadlineExceededError("deadline exceeded"));
    frame.envelope.set_timeout_us(remaining_us);
  }

  size_t metadata_bytes = 0;
  for (const auto& [key, value] : context_.client_metadata()) {
    if (IsTransportMetadata(absl::string_view(key.data(), key.size()))) continue;
    metadata_bytes += key.size() + value.size();
    MetadataEntry* entry = frame.envelope.add_metadata();
    entry->set_key(key.data(), key.size());
    entry->set_value(value.data(), value.size());
  }
  if (metadata_bytes > env_->dispatcher->limits().max_metadata_bytes) {
    return Finish(absl::ResourceExhaustedError("metadata over its limit"));
  }

  const Dispatcher::Route* route = env_->dispatcher->FindRoute(context_.method());
  const MethodHandler* handler = route == nullptr ? nullptr : route->handler;
  const bool streaming = handler != nullptr && handler->kind() != MethodKind::kUnary;
  std::string peer;
  PeerIdentity identity;
  env_->adopted_peers->Resolve(context_.peer(), &peer, &identity);
  AddTlsIdentity(context_, &identity);
  std::shared_ptr<ServerCall> call = Dispatcher::NewCall(std::move(frame), std::move(peer), identity);
  call->transport = CallTransport::kGrpc;
  ServerCallAccess::set_attachments_supported(&call->context, false);
  {
    std::lock_guard<std::mutex> lock(mu_);
    call_ = call;
    streaming_ = streaming;
    // The end report may have come already, on another thread.
    if (cancelled_) ServerCallAccess::Cancel(&call->context);
  }
  if (streaming) {
    route_ = route;
    env_->dispatcher->RecordStarted(route, *call);
    env_->stream_threads->Submit([this, handler] { RunStream(handler); });
  } else {
    // Unknown methods too: the Dispatcher answers them with UNIMPLEMENTED.
    stream_.Read(&request_, &read_);
  }
}

void GrpcCall::OnUnaryRequest(bool ok) {
  if (!ok) return Finish(absl::InvalidArgumentError("missing request message"));
  std::shared_ptr<ServerCall> call;
  {
    std::lock_guard<std::mutex> lock(mu_);
    call = call_;
  }
  call->request_frame.payload = ToString(request_);
  request_.Clear();
  // The reply may come on this thread or a worker's. Either way this object stays alive: its
  // Finish has not been started, so it cannot be deleted yet.
  env_->dispatcher->Dispatch(
      std::move(call), /*allow_offload=*/true,
      [this](std::shared_ptr<ServerCall>, std::string response) { ReplyUnary(response); });
}

void GrpcCall::ReplyUnary(const std::string& response_frame) {
  Frame response;
  const DecodeResult decoded =
      DecodeFrame(response_frame, env_->dispatcher->limits(), &response);
  if (decoded.outcome != DecodeOutcome::kFrame) {
    return Finish(absl::InternalError(
        absl::StrCat("bad response frame: ", decoded.error.ToString())));
  }
  const Envelope& envelope = response.envelope;
  if (envelope.status_code() != 0) {
    return Finish(absl::Status(static_cast<absl::StatusCode>(envelope.status_code()),
                               envelope.status_message()));
  }
  if (envelope.attachment_size() != 0) return Finish(AttachmentError());
  response_ = ToByteBuffer(std::move(response.payload));
  Finish(absl::OkStatus(), /*with_message=*/true);
}

void GrpcCall::RunStream(const MethodHandler* handler) {
  ServerCall* call;
  {
    std::lock_guard<std::mutex> lock(mu_);
    call = call_.get();
  }
  stream_call_ = call;
  std::unique_ptr<google::protobuf::Message> response = handler->NewResponse();
  absl::Status status = handler->InvokeStream(&call->context, this, response.get());
  if (!stream_error_.ok()) status = stream_error_;
  std::string bytes;
  if (status.ok() && handler->kind() == MethodKind::kClientStreaming) {
    if (!call->context.mutable_response_attachment()->empty()) {
      status = AttachmentError();
    } else if (!response->SerializeToString(&bytes)) {
      status = absl::InternalError("the response did not serialize");
    } else if (bytes.size() > env_->dispatcher->limits().max_body_bytes) {
      status = absl::ResourceExhaustedError("response over the message size limit");
    }
  }
  env_->dispatcher->RecordFinished(route_, *call, status.code(), 0, 0);
  if (!status.ok() || handler->kind() != MethodKind::kClientStreaming) return Finish(status);
  response_ = ToByteBuffer(std::move(bytes));
  Finish(absl::OkStatus(), /*with_message=*/true);
}

bool GrpcCall::Read(google::protobuf::MessageLite* message, std::string* attachment) {
  if (!stream_error_.ok()) return false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (cancelled_) return false;
    read_done_ = false;
  }
  stream_.Read(&request_, &read_);
  if (!AwaitCompletion(Op::kRead)) return false;  // half-closed, or the call ended
  const std::string bytes = ToString(request_);
  request_.Clear();
  env_->dispatcher->RecordStreamMessage(route_, *stream_call_, /*received=*/true,
                                        bytes.size());
  if (!message->ParseFromString(bytes)) {
    stream_error_ = absl::InvalidArgumentError(
        absl::StrCat("request is not a valid ", message->GetTypeName()));
    return false;
  }
  if (attachment != nullptr) attachment->clear();  // gRPC messages have none
  return true;
}

bool GrpcCall::Write(const google::protobuf::MessageLite& message, absl::string_view attachment) {
  if (!stream_error_.ok()) return false;
  if (!attachment.empty()) {
    stream_error_ = AttachmentError();
    return false;
  }
  std::string bytes;
  if (!message.SerializeToString(&bytes)) {
    stream_error_ = absl::InternalError("a message did not serialize");
    return false;
  }
  if (bytes.size() > env_->dispatcher->limits().max_body_bytes) {
    stream_error_ = absl::ResourceExhaustedError("message over the size limit");
    return false;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (cancelled_) return false;
    write_done_ = false;
  }
  const size_t size = bytes.size();
  response_ = ToByteBuffer(std::move(bytes));
  stream_.Write(response_, &write_);
  if (AwaitWrite()) {
    env_->dispatcher->RecordStreamMessage(route_, *stream_call_, /*received=*/false, size);
    return true;
  }
  // A write fails only once the call is over (cancelled, out of time, disconnected): say so now
  // rather than when gRPC's end report arrives, so that the handler sees why.
  std::shared_ptr<ServerCall> call;
  {
    std::lock_guard<std::mutex> lock(mu_);
    cancelled_ = true;
    call = call_;
  }
  ServerCallAccess::Cancel(&call->context);
  return false;
}

bool GrpcCall::AwaitCompletion(Op op) {
  std::unique_lock<std::mutex> lock(mu_);
  if (op == Op::kRead) {
    cv_.wait(lock, [this] { return read_done_; });
    return read_ok_;
  }
  cv_.wait(lock, [this] { return write_done_; });
  return write_ok_;
}

bool GrpcCall::AwaitWrite() {
  const absl::Duration stall = env_->stream_stall_timeout;
  std::unique_lock<std::mutex> lock(mu_);
  const auto done = [this] { return write_done_; };
  if (stall == absl::InfiniteDuration() ||
      cv_.wait_until(lock, absl::ToChronoTime(absl::Now() + stall), done)) {
    cv_.wait(lock, done);
    return write_ok_;
  }
  // Nothing was read for the stall timeout. gRPC cannot send a status while a write is
  // outstanding, so the call is cancelled; gRPC then fails the write.
  lock.unlock();
  stream_error_ = absl::ResourceExhaustedError(
      absl::StrCat("the peer has read nothing of this stream for ", absl::FormatDuration(stall),
                   "; giving up"));
  context_.TryCancel();
  lock.lock();
  cv_.wait(lock, done);
  return false;
}

void GrpcCall::Finish(const absl::Status& status, bool with_message) {
  std::shared_ptr<ServerCall> call;
  {
    std::lock_guard<std::mutex> lock(mu_);
    call = call_;
  }
  // As on the framed transport, the context reads as cancelled once the call is over.
  if (call != nullptr) ServerCallAccess::Cancel(&call->context);
  call.reset();
  // Once the finish is started, a completion-queue thread may delete the call, but only after
  // taking mu_ in OnEnded(): holding it here keeps the deletion after this function's last touch
  // of the object, in a way ThreadSanitizer can see (gRPC's own locks are invisible to it).
  std::lock_guard<std::mutex> lock(mu_);
  if (with_message) {
    stream_.WriteAndFinish(response_, grpc::WriteOptions(), grpc::Status::OK, &finished_);
  } else {
    stream_.Finish(ToGrpcStatus(status), &finished_);
  }
}

void GrpcCall::OnEnded(Op op) {
  std::shared_ptr<ServerCall> cancel;
  bool last;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (op == Op::kDone) {
      end_reported_ = true;
      if (context_.IsCancelled() && !cancelled_) {
        cancelled_ = true;
        cancel = call_;
      }
    } else {
      finish_completed_ = true;
    }
    last = end_reported_ && finish_completed_;
  }
  if (cancel != nullptr) ServerCallAccess::Cancel(&cancel->context);
  if (!last) return;
  const CallEnvironment* env = env_;
  delete this;
  env->on_deleted();
}

}  // namespace framerpc::grpc_adapter

#include "adapters/grpc/grpc_adapter.h"

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "transport/frame_codec.h"

namespace framerpc {
namespace {

std::string ToString(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  out.reserve(buffer.Length());
  for (const grpc::Slice& slice : slices) {
    out.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return out;
}

grpc::ByteBuffer ToByteBuffer(absl::string_view bytes) {
  grpc::Slice slice(bytes.data(), bytes.size());
  return grpc::ByteBuffer(&slice, 1);
}

grpc::Status ToGrpcStatus(int code, std::string message) {
  if (code < 0 || code > static_cast<int>(grpc::StatusCode::UNAUTHENTICATED)) {
    code = static_cast<int>(grpc::StatusCode::UNKNOWN);
  }
  return grpc::Status(static_cast<grpc::StatusCode>(code), std::move(message));
}

// Metadata gRPC itself owns: pseudo-headers and the grpc- reserved prefix.
bool IsTransportMetadata(absl::string_view key) {
  return absl::StartsWith(key, ":") || absl::StartsWith(key, "grpc-");
}

}  // namespace

// One incoming gRPC call, from being requested to being finished. Heap-allocated; deletes itself
// when its last gRPC operation completes. Exactly one operation is outstanding at a time
// (RequestCall, then Read, then Finish), so each completion is handled by one thread.
class GrpcAdapter::Call {
 public:
  enum class Step { kRequested, kRead, kFinished };
  // A completion-queue tag. Never changed after construction, so any thread may read it.
  struct Tag {
    Call* call;
    Step step;
  };

  explicit Call(GrpcAdapter* adapter) : adapter_(adapter) {}

  void Arm() {
    adapter_->generic_service_->RequestCall(&context_, &stream_, adapter_->cq_.get(),
                                            adapter_->cq_.get(), &requested_);
  }

  void OnEvent(Step step, bool ok) {
    switch (step) {
      case Step::kRequested:
        if (!ok) return Delete();  // The server is shutting down.
        adapter_->RequestCall();
        stream_.Read(&request_, &read_);
        return;
      case Step::kRead:
        if (!ok) {
          return Finish(grpc::Status(grpc::StatusCode::INTERNAL, "no request message"));
        }
        return Serve();
      case Step::kFinished:
        return Delete();
    }
  }

 private:
  void Serve();
  void Reply(const std::string& response_frame);

  void Finish(const grpc::Status& status) { stream_.Finish(status, &finished_); }

  void Delete() {
    GrpcAdapter* adapter = adapter_;
    delete this;
    adapter->CallEnded();
  }

  GrpcAdapter* const adapter_;
  grpc::GenericServerContext context_;
  grpc::GenericServerAsyncReaderWriter stream_{&context_};
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
  Tag requested_{this, Step::kRequested};
  Tag read_{this, Step::kRead};
  Tag finished_{this, Step::kFinished};
};

void GrpcAdapter::Call::Serve() {
  Frame frame;
  frame.envelope.set_kind(REQUEST);
  frame.envelope.set_call_id(1);
  frame.envelope.set_method(context_.method());

  const auto deadline = context_.deadline();
  if (deadline != std::chrono::system_clock::time_point::max()) {
    const int64_t remaining_us = std::chrono::duration_cast<std::chrono::microseconds>(
                                     deadline - std::chrono::system_clock::now())
                                     .count();
    if (remaining_us <= 0) {
      return Finish(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "deadline exceeded"));
    }
    frame.envelope.set_timeout_us(remaining_us);
  }

  size_t metadata_bytes = 0;
  for (const auto& [key, value] : context_.client_metadata()) {
    const absl::string_view k(key.data(), key.size());
    if (IsTransportMetadata(k)) continue;
    metadata_bytes += key.size() + value.size();
    MetadataEntry* entry = frame.envelope.add_metadata();
    entry->set_key(key.data(), key.size());
    entry->set_value(value.data(), value.size());
  }
  if (metadata_bytes > adapter_->dispatcher_->limits().max_metadata_bytes) {
    return Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "metadata over its limit"));
  }

  frame.payload = ToString(request_);
  request_.Clear();
  std::shared_ptr<ServerCall> call = Dispatcher::NewCall(std::move(frame), context_.peer());
  // The reply may come on this thread or a worker's. Either way this Call stays alive: its Finish
  // has not been started, so no completion can delete it.
  adapter_->dispatcher_->Dispatch(
      std::move(call), /*allow_offload=*/true,
      [this](std::shared_ptr<ServerCall>, std::string response) { Reply(response); });
}

void GrpcAdapter::Call::Reply(const std::string& response_frame) {
  Frame response;
  const DecodeResult decoded =
      DecodeFrame(response_frame, adapter_->dispatcher_->limits(), &response);
  if (decoded.outcome != DecodeOutcome::kFrame) {
    return Finish(grpc::Status(grpc::StatusCode::INTERNAL,
                               absl::StrCat("bad response frame: ", decoded.error.ToString())));
  }
  const Envelope& envelope = response.envelope;
  if (envelope.status_code() != 0) {
    return Finish(ToGrpcStatus(envelope.status_code(), envelope.status_message()));
  }
  response_ = ToByteBuffer(response.message_bytes());
  stream_.WriteAndFinish(response_, grpc::WriteOptions(), grpc::Status::OK, &finished_);
}

GrpcAdapter::GrpcAdapter(Dispatcher* dispatcher, GrpcAdapterOptions options)
    : dispatcher_(dispatcher), options_(std::move(options)) {}

GrpcAdapter::~GrpcAdapter() { Shutdown(); }

absl::Status GrpcAdapter::Start() {
  if (started_ || shut_down_) return absl::FailedPreconditionError("GrpcAdapter already started");
  started_ = true;
  grpc::EnableDefaultHealthCheckService(true);
  generic_service_ = std::make_unique<grpc::AsyncGenericService>();
  const int max_message =
      static_cast<int>(std::min<uint64_t>(dispatcher_->limits().max_body_bytes, INT_MAX));

  grpc::ServerBuilder builder;
  builder.AddListeningPort(options_.listen_address, grpc::InsecureServerCredentials(), &port_);
  builder.RegisterAsyncGenericService(generic_service_.get());
  builder.SetMaxReceiveMessageSize(max_message);
  builder.SetMaxSendMessageSize(max_message);
  cq_ = builder.AddCompletionQueue();
  server_ = builder.BuildAndStart();
  if (server_ == nullptr) {
    cq_->Shutdown();
    void* tag;
    bool ok;
    while (cq_->Next(&tag, &ok)) {
    }
    shut_down_ = true;
    return absl::UnavailableError(
        absl::StrCat("could not start a gRPC server on '", options_.listen_address, "'"));
  }

  if (grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService()) {
    health->SetServingStatus(true);
    for (const std::string& name : options_.health_services) {
      health->SetServingStatus(name, true);
    }
  }
  const int threads = std::max(1, options_.handler_threads);
  for (int i = 0; i < threads; ++i) RequestCall();
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { PollLoop(); });
  return absl::OkStatus();
}

void GrpcAdapter::RequestCall() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++live_calls_;
  }
  (new Call(this))->Arm();
}

void GrpcAdapter::CallEnded() {
  std::lock_guard<std::mutex> lock(mu_);
  if (--live_calls_ == 0) calls_cv_.notify_all();
}

void GrpcAdapter::PollLoop() {
  void* tag;
  bool ok;
  while (cq_->Next(&tag, &ok)) {
    const auto* t = static_cast<const Call::Tag*>(tag);
    t->call->OnEvent(t->step, ok);
  }
}

void GrpcAdapter::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  if (!started_) return;
  // Fails the armed RequestCalls, then cancels calls still open after `grace`. The poll threads
  // keep running meanwhile: they delete the Calls as their last operations complete.
  server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  {
    // Calls whose handlers are still running start their Finish later; the queue must accept it.
    std::unique_lock<std::mutex> lock(mu_);
    calls_cv_.wait(lock, [this] { return live_calls_ == 0; });
  }
  cq_->Shutdown();
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
}

}  // namespace framerpc

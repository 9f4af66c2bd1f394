#include "cli/grpc_call.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "cli/call_context.h"
#include "cli/grpc_connect.h"
#include "cli/method_registry.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/client_callback.h"

namespace framerpc::cli {
namespace {

using google::protobuf::Message;

Metadata CopyMetadata(const std::multimap<grpc::string_ref, grpc::string_ref>& from) {
  Metadata to;
  for (const auto& [key, value] : from) {
    to.emplace_back(std::string(key.data(), key.size()), std::string(value.data(), value.size()));
  }
  return to;
}

// gRPC's callback API made blocking: each operation is started and waited for. Two holds keep
// gRPC from ending the reactor (OnDone) while this side may still start a write or a read; they
// go when the writes are done (or Finish), and when a read fails (or Finish).
class GrpcCall final : public CliCall,
                       private grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  explicit GrpcCall(std::shared_ptr<grpc::Channel> channel) : stub_(std::move(channel)) {}
  GrpcCall(const GrpcCall&) = delete;
  GrpcCall& operator=(const GrpcCall&) = delete;

  ~GrpcCall() override {
    // A call abandoned before Finish() (an error in the caller) is cancelled and waited for:
    // gRPC calls into this reactor until OnDone.
    if (started_) {
      context_.TryCancel();
      ReleaseHolds();
      WaitFor([this] { return done_; });
    }
  }

  grpc::ClientContext* context() { return &context_; }

  void Start(const std::string& path) {
    stub_.PrepareBidiStreamingCall(&context_, path, grpc::StubOptions(), this);
    AddMultipleHolds(2);
    write_hold_ = read_hold_ = true;
    started_ = true;
    StartCall();
  }

  bool Write(const Message& request, absl::string_view attachment) override {
    if (!attachment.empty()) {
      Fail(absl::InvalidArgumentError("gRPC carries no attachments; use the framed protocol"));
      return false;
    }
    std::string bytes;
    if (!request.SerializeToString(&bytes)) {
      Fail(absl::InvalidArgumentError(
          absl::StrCat("the request does not serialize as ", request.GetTypeName())));
      return false;
    }
    grpc::Slice slice(bytes);
    write_buffer_ = grpc::ByteBuffer(&slice, 1);
    {
      std::lock_guard<std::mutex> lock(mu_);
      write_pending_ = true;
    }
    StartWrite(&write_buffer_);
    WaitFor([this] { return !write_pending_; });
    std::lock_guard<std::mutex> lock(mu_);
    return write_ok_;
  }

  void WritesDone() override {
    if (!write_hold_.load()) return;
    {
      std::lock_guard<std::mutex> lock(mu_);
      write_pending_ = true;
    }
    StartWritesDone();
    WaitFor([this] { return !write_pending_; });
    if (write_hold_.exchange(false)) RemoveHold();
  }

  bool Read(Message* reply, std::string* attachment) override {
    if (!read_hold_.load()) return false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      read_pending_ = true;
    }
    StartRead(&read_buffer_);
    WaitFor([this] { return !read_pending_; });
    bool ok;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ok = read_ok_;
    }
    if (!ok) {
      if (read_hold_.exchange(false)) RemoveHold();
      return false;
    }
    std::vector<grpc::Slice> slices;
    std::string bytes;
    if (read_buffer_.Dump(&slices).ok()) {
      for (const grpc::Slice& slice : slices) {
        bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
      }
    }
    if (!reply->ParseFromString(bytes)) {
      Fail(absl::InternalError(
          absl::StrCat("a reply does not parse as ", reply->GetTypeName())));
      if (read_hold_.exchange(false)) RemoveHold();
      return false;
    }
    attachment->clear();
    return true;
  }

  absl::Status Finish() override {
    ReleaseHolds();
    WaitFor([this] { return done_; });
    std::lock_guard<std::mutex> lock(mu_);
    if (!local_.ok()) return local_;
    return absl::Status(static_cast<absl::StatusCode>(status_.error_code()),
                        status_.error_message());
  }

  void Cancel() override { context_.TryCancel(); }

  bool carries_response_metadata() const override { return true; }

  Metadata ResponseHeaders() override {
    WaitFor([this] { return headers_arrived_ || done_; });
    std::lock_guard<std::mutex> lock(mu_);
    return headers_;
  }

  Metadata ResponseTrailers() override {
    WaitFor([this] { return done_; });
    return CopyMetadata(context_.GetServerTrailingMetadata());
  }

 private:
  template <typename Predicate>
  void WaitFor(Predicate ready) {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, ready);
  }

  // A local failure ends the call; Finish() reports it instead of gRPC's CANCELLED.
  void Fail(absl::Status status) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (local_.ok()) local_ = std::move(status);
    }
    context_.TryCancel();
  }

  void ReleaseHolds() {
    if (write_hold_.exchange(false)) RemoveHold();
    if (read_hold_.exchange(false)) RemoveHold();
  }

  void OnReadInitialMetadataDone(bool ok) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (ok) headers_ = CopyMetadata(context_.GetServerInitialMetadata());
    headers_arrived_ = true;
    changed_.notify_all();
  }
  void OnWriteDone(bool ok) override {
    std::lock_guard<std::mutex> lock(mu_);
    write_ok_ = ok;
    write_pending_ = false;
    changed_.notify_all();
  }
  void OnWritesDoneDone(bool) override {
    std::lock_guard<std::mutex> lock(mu_);
    write_pending_ = false;
    changed_.notify_all();
  }
  void OnReadDone(bool ok) override {
    std::lock_guard<std::mutex> lock(mu_);
    read_ok_ = ok;
    read_pending_ = false;
    changed_.notify_all();
  }
  void OnDone(const grpc::Status& status) override {
    std::lock_guard<std::mutex> lock(mu_);
    status_ = status;
    done_ = true;
    changed_.notify_all();
  }

  grpc::GenericStub stub_;
  grpc::ClientContext context_;
  grpc::ByteBuffer write_buffer_;  // owned by gRPC between StartWrite and OnWriteDone
  grpc::ByteBuffer read_buffer_;   // filled by gRPC between StartRead and OnReadDone
  bool started_ = false;
  std::atomic<bool> write_hold_{false};
  std::atomic<bool> read_hold_{false};

  std::mutex mu_;
  std::condition_variable changed_;
  bool write_pending_ = false;
  bool write_ok_ = true;
  bool read_pending_ = false;
  bool read_ok_ = false;
  bool headers_arrived_ = false;
  Metadata headers_;
  bool done_ = false;
  grpc::Status status_;
  absl::Status local_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<CliCall>> StartGrpcCall(
    const CliOptions& options, const google::protobuf::MethodDescriptor& method) {
  ClientContext prepared;
  FRPC_RETURN_IF_ERROR(PrepareContext(options, &prepared));
  FRPC_ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel, GrpcConnect(options));
  auto call = std::make_unique<GrpcCall>(std::move(channel));
  for (const auto& [key, value] : prepared.metadata()) {
    call->context()->AddMetadata(absl::AsciiStrToLower(key), value);
  }
  if (options.timeout != absl::InfiniteDuration()) {
    call->context()->set_deadline(absl::ToChronoTime(absl::Now() + options.timeout));
  }
  call->Start(MethodPath(method));
  return call;
}

}  // namespace framerpc::cli

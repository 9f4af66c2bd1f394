#include "cli/framed_call.h"

#include <string>
#include <utility>

#include "base/status_macros.h"
#include "cli/call_context.h"
#include "cli/connect.h"
#include "cli/method_registry.h"
#include "rpc/channel.h"
#include "rpc/stream.h"

namespace framerpc::cli {
namespace {

using google::protobuf::Message;

MethodKind KindOf(const google::protobuf::MethodDescriptor& method) {
  if (method.client_streaming()) {
    return method.server_streaming() ? MethodKind::kBidiStreaming : MethodKind::kClientStreaming;
  }
  return method.server_streaming() ? MethodKind::kServerStreaming : MethodKind::kUnary;
}

class FramedCall final : public CliCall {
 public:
  FramedCall(std::unique_ptr<Channel> channel, std::string path, MethodKind kind,
             const Message& reply_prototype)
      : channel_(std::move(channel)), path_(std::move(path)), kind_(kind) {
    if (kind_ == MethodKind::kClientStreaming) final_reply_.reset(reply_prototype.New());
  }
  FramedCall(const FramedCall&) = delete;
  FramedCall& operator=(const FramedCall&) = delete;

  ClientContext* context() { return &context_; }

  // Streaming kinds: opens the stream. Unary calls start in Read().
  void Start() {
    if (kind_ == MethodKind::kUnary) return;
    stream_ = channel_->StartStream(path_, kind_, &context_, final_reply_.get());
  }

  bool Write(const Message& request, absl::string_view attachment) override {
    if (kind_ != MethodKind::kUnary) return stream_->Write(request, attachment);
    if (request_ != nullptr) return false;  // one request only
    request_.reset(request.New());
    request_->CopyFrom(request);
    context_.set_request_attachment(std::string(attachment));
    return true;
  }

  void WritesDone() override {
    if (stream_ != nullptr) stream_->WritesDone();
  }

  bool Read(Message* reply, std::string* attachment) override {
    if (ServerSends(kind_)) return stream_->Read(reply, attachment);
    if (finished_) return false;
    finished_ = true;
    if (kind_ == MethodKind::kUnary) {
      if (request_ == nullptr) {
        status_ = absl::InternalError("a unary call was read before its request was written");
        return false;
      }
      status_ = channel_->Call(path_, &context_, *request_, reply);
    } else {
      status_ = stream_->Finish();
      if (status_.ok()) reply->CopyFrom(*final_reply_);
    }
    if (!status_.ok()) return false;
    *attachment = context_.response_attachment();
    return true;
  }

  absl::Status Finish() override {
    if (ServerSends(kind_)) return stream_->Finish();
    if (!finished_) {
      finished_ = true;
      status_ = stream_ != nullptr ? stream_->Finish()
                                   : absl::InternalError("a unary call that was never made");
    }
    return status_;
  }

  void Cancel() override { context_.TryCancel(); }

  bool carries_response_metadata() const override { return false; }
  Metadata ResponseHeaders() override { return {}; }
  Metadata ResponseTrailers() override { return {}; }

 private:
  // Declared in this order so that the stream goes before the context and the channel.
  std::unique_ptr<Channel> channel_;
  const std::string path_;
  const MethodKind kind_;
  ClientContext context_;
  std::unique_ptr<Message> request_;      // unary: held until Read()
  std::unique_ptr<Message> final_reply_;  // client streaming: Finish() fills it
  std::unique_ptr<ClientStreamBase> stream_;
  bool finished_ = false;  // unary and client streaming: the reply has been asked for
  absl::Status status_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<CliCall>> StartFramedCall(
    const CliOptions& options, const google::protobuf::MethodDescriptor& method,
    const Message& reply_prototype) {
  ClientContext prepared;
  FRPC_RETURN_IF_ERROR(PrepareContext(options, &prepared));
  FRPC_ASSIGN_OR_RETURN(std::unique_ptr<Channel> channel, Connect(options, options.address));
  auto call = std::make_unique<FramedCall>(std::move(channel), MethodPath(method), KindOf(method),
                                           reply_prototype);
  for (const auto& [key, value] : prepared.metadata()) call->context()->AddMetadata(key, value);
  if (options.timeout != absl::InfiniteDuration()) call->context()->set_timeout(options.timeout);
  call->Start();
  return call;
}

}  // namespace framerpc::cli

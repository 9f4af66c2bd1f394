#include "rpc/client_frames.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "rpc/call_access.h"
#include "rpc/channel.h"

namespace framerpc {

namespace {

// Sets `envelope`, which may hold an earlier call's fields, to the REQUEST of call `id`.
void FillRequestEnvelope(uint64_t id, absl::string_view method, const ClientContext& context,
                         absl::Time deadline, Envelope* envelope) {
  envelope->Clear();  // keeps the method string's memory
  envelope->set_kind(REQUEST);
  envelope->set_call_id(id);
  envelope->mutable_method()->assign(method.data(), method.size());
  if (deadline != absl::InfiniteFuture()) {
    envelope->set_timeout_us(
        std::max<int64_t>(1, absl::ToInt64Microseconds(deadline - absl::Now())));
  }
  for (const auto& [key, value] : context.metadata()) {
    MetadataEntry* entry = envelope->add_metadata();
    entry->set_key(key);
    entry->set_value(value);
  }
}

}  // namespace

Envelope NewRequestEnvelope(uint64_t id, absl::string_view method, const ClientContext& context,
                            absl::Time deadline) {
  Envelope envelope;
  FillRequestEnvelope(id, method, context, deadline, &envelope);
  return envelope;
}

namespace {

absl::Status EncodeRequest(uint64_t id, absl::string_view method, const ClientContext& context,
                           absl::Time deadline, const google::protobuf::MessageLite& request,
                           const FrameLimits& limits, bool with_attachment, std::string* out) {
  thread_local Envelope envelope;
  FillRequestEnvelope(id, method, context, deadline, &envelope);
  const absl::string_view attachment = context.request_attachment();
  absl::Status encoded =
      with_attachment ? EncodeFrame(&envelope, &request, attachment, limits, out)
                      : EncodeFrameHead(&envelope, &request, attachment.size(), limits, out);
  // Metadata can be up to the metadata limit: not kept for the thread's next call.
  if (envelope.metadata_size() > 0) Envelope().Swap(&envelope);
  return encoded;
}

}  // namespace

absl::Status EncodeRequestFrame(uint64_t id, absl::string_view method, const ClientContext& context,
                                absl::Time deadline, const google::protobuf::MessageLite& request,
                                const FrameLimits& limits, std::string* out) {
  return EncodeRequest(id, method, context, deadline, request, limits, true, out);
}

absl::Status EncodeRequestHead(uint64_t id, absl::string_view method, const ClientContext& context,
                               absl::Time deadline, const google::protobuf::MessageLite& request,
                               const FrameLimits& limits, std::string* out) {
  return EncodeRequest(id, method, context, deadline, request, limits, false, out);
}

std::string CancelFrame(uint64_t id, const FrameLimits& limits) {
  Envelope envelope;
  envelope.set_kind(CANCEL);
  envelope.set_call_id(id);
  std::string frame;
  EncodeFrame(std::move(envelope), nullptr, {}, limits, &frame).IgnoreError();  // "" on failure
  return frame;
}

namespace {

std::string Ping(uint64_t ping_data, uint32_t flags, const FrameLimits& limits) {
  Envelope envelope;
  envelope.set_kind(PING);
  envelope.set_flags(flags);
  envelope.set_ping_data(ping_data);
  std::string frame;
  EncodeFrame(std::move(envelope), nullptr, {}, limits, &frame).IgnoreError();  // "" on failure
  return frame;
}

}  // namespace

std::string PingFrame(uint64_t ping_data, const FrameLimits& limits) {
  return Ping(ping_data, 0, limits);
}

std::string PingAckFrame(uint64_t ping_data, const FrameLimits& limits) {
  return Ping(ping_data, ACK, limits);
}

absl::Status NotProcessedError() {
  // Refused by a GOAWAY: it reached no handler, so it may go to another server (CallNeverSent).
  return MarkNeverSent(
      absl::UnavailableError("server is shutting down; the call was not processed"));
}

absl::Status ConnectionErrorStatus(const Envelope& envelope) {
  absl::StatusCode code = WireStatusCode(envelope.status_code());
  if (code == absl::StatusCode::kOk) code = absl::StatusCode::kUnknown;
  return absl::Status(code,
                      absl::StrCat("server closed the connection: ", envelope.status_message()));
}

absl::StatusCode WireStatusCode(int32_t code) {
  if (code < 0 || code > static_cast<int32_t>(absl::StatusCode::kUnauthenticated)) {
    return absl::StatusCode::kUnknown;
  }
  return static_cast<absl::StatusCode>(code);
}

absl::Status FinishCallFromResponse(const Frame& frame, ClientContext* context,
                                    google::protobuf::MessageLite* response) {
  absl::Status status(WireStatusCode(frame.envelope.status_code()),
                      frame.envelope.status_message());
  if (!status.ok()) return status;
  const absl::string_view bytes = frame.message_bytes();
  if (response != nullptr && !response->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::InternalError("response message does not parse");
  }
  *ClientCallAccess::mutable_response_attachment(context) = std::string(frame.attachment());
  return absl::OkStatus();
}

absl::Status FinishCallFromResponse(Frame* frame, ClientContext* context,
                                    google::protobuf::MessageLite* response) {
  absl::Status status(WireStatusCode(frame->envelope.status_code()),
                      frame->envelope.status_message());
  if (!status.ok()) return status;
  const absl::string_view bytes = frame->message_bytes();
  if (response != nullptr &&
      !response->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::InternalError("response message does not parse");
  }
  frame->TakeAttachment(ClientCallAccess::mutable_response_attachment(context));
  return absl::OkStatus();
}

}  // namespace framerpc

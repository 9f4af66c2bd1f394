#include "transport/frame_codec.h"

#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace framerpc {
namespace {

uint32_t LoadBigEndian32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | uint32_t{u[3]};
}

void StoreBigEndian32(uint32_t v, char* p) {
  p[0] = static_cast<char>(v >> 24);
  p[1] = static_cast<char>(v >> 16);
  p[2] = static_cast<char>(v >> 8);
  p[3] = static_cast<char>(v);
}

uint64_t MetadataBytes(const Envelope& envelope) {
  uint64_t total = 0;
  for (const MetadataEntry& entry : envelope.metadata()) {
    total += entry.key().size() + entry.value().size();
  }
  return total;
}

absl::Status CheckEnvelope(const Envelope& envelope, size_t payload_bytes,
                           const FrameLimits& limits) {
  const uint64_t metadata_bytes = MetadataBytes(envelope);
  if (metadata_bytes > limits.max_metadata_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat("metadata of ", metadata_bytes,
                                                     " bytes exceeds the limit of ",
                                                     limits.max_metadata_bytes));
  }
  if (envelope.attachment_size() > payload_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("attachment size ", envelope.attachment_size(),
                                                   " exceeds payload size ", payload_bytes));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckFrameHeader(absl::string_view input, const FrameLimits& limits,
                              uint32_t* body_bytes, uint32_t* envelope_bytes) {
  const size_t magic_seen = std::min(input.size(), sizeof(kFrameMagic));
  if (std::memcmp(input.data(), kFrameMagic, magic_seen) != 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("bad magic: not a framerpc stream (first bytes %s)",
                        absl::CHexEscape(input.substr(0, magic_seen))));
  }
  if (input.size() > 4 && static_cast<uint8_t>(input[4]) != kProtocolVersion) {
    return absl::UnimplementedError(absl::StrCat("unsupported protocol version ",
                                                 static_cast<uint8_t>(input[4]), " (supported: ",
                                                 kProtocolVersion, ")"));
  }
  for (size_t i = 5; i < std::min<size_t>(input.size(), 8); ++i) {
    if (input[i] != 0) {
      return absl::InvalidArgumentError(absl::StrCat("reserved header byte ", i, " is not zero"));
    }
  }
  if (input.size() < kFrameHeaderSize) return absl::OkStatus();

  const uint32_t body = LoadBigEndian32(input.data() + 8);
  const uint32_t envelope = LoadBigEndian32(input.data() + 12);
  if (body > limits.max_body_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "frame body of ", body, " bytes exceeds the limit of ", limits.max_body_bytes));
  }
  if (envelope == 0) return absl::InvalidArgumentError("envelope length is 0");
  if (envelope > body) {
    return absl::InvalidArgumentError(
        absl::StrCat("envelope length ", envelope, " exceeds body length ", body));
  }
  if (envelope > limits.max_envelope_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "envelope of ", envelope, " bytes exceeds the limit of ", limits.max_envelope_bytes));
  }
  *body_bytes = body;
  *envelope_bytes = envelope;
  return absl::OkStatus();
}

DecodeResult DecodeEnvelope(absl::string_view input, const FrameLimits& limits, Envelope* envelope,
                            uint32_t* body_bytes) {
  DecodeResult result;
  uint32_t body = 0;
  uint32_t envelope_bytes = 0;
  absl::Status header = CheckFrameHeader(input, limits, &body, &envelope_bytes);
  if (!header.ok()) {
    result.outcome = DecodeOutcome::kError;
    result.error = std::move(header);
    return result;
  }
  if (input.size() < kFrameHeaderSize || input.size() - kFrameHeaderSize < envelope_bytes) {
    return result;  // kNeedMore
  }
  envelope->Clear();
  if (!envelope->ParseFromArray(input.data() + kFrameHeaderSize, static_cast<int>(envelope_bytes))) {
    result.outcome = DecodeOutcome::kError;
    result.error = absl::InvalidArgumentError("envelope is not a valid framerpc.Envelope");
    return result;
  }
  absl::Status envelope_ok = CheckEnvelope(*envelope, body - envelope_bytes, limits);
  if (!envelope_ok.ok()) {
    result.outcome = DecodeOutcome::kError;
    result.error = std::move(envelope_ok);
    return result;
  }
  *body_bytes = body;
  result.outcome = DecodeOutcome::kFrame;
  result.consumed = kFrameHeaderSize + envelope_bytes;
  return result;
}

void AssignPayload(absl::string_view bytes, Frame* frame) {
  static const size_t kInlineBytes = std::string().capacity();
  const size_t attachment = frame->envelope.attachment_size();  // <= bytes.size(): checked
  const size_t message = bytes.size() - attachment;
  if (attachment > 0 && message > 0 && message <= kInlineBytes) {
    frame->payload.assign(bytes.data(), message);
    frame->detached.assign(bytes.data() + message, attachment);
    frame->attachment_detached = true;
  } else {
    frame->payload.assign(bytes.data(), bytes.size());
    frame->detached.clear();
    frame->attachment_detached = false;
  }
}

DecodeResult DecodeFrame(absl::string_view input, const FrameLimits& limits, Frame* frame) {
  uint32_t body = 0;
  DecodeResult result = DecodeEnvelope(input, limits, &frame->envelope, &body);
  if (result.outcome != DecodeOutcome::kFrame) return result;
  if (input.size() - kFrameHeaderSize < body) return DecodeResult{};  // kNeedMore: the payload
  AssignPayload(
      absl::string_view(input.data() + result.consumed, kFrameHeaderSize + body - result.consumed),
      frame);
  result.consumed = kFrameHeaderSize + body;
  return result;
}

namespace {

// EncodeFrameHead's work, with room reserved in `out` for `extra_capacity` more bytes, so that a
// caller appending the attachment itself makes `out` grow once.
absl::Status AppendFrameHead(Envelope* envelope, const google::protobuf::MessageLite* message,
                             size_t attachment_size, const FrameLimits& limits,
                             size_t extra_capacity, std::string* out) {
  envelope->set_attachment_size(static_cast<uint32_t>(attachment_size));
  const size_t message_bytes = message == nullptr ? 0 : message->ByteSizeLong();
  const size_t envelope_bytes = envelope->ByteSizeLong();
  if (envelope_bytes == 0) {
    // An all-default envelope serializes to nothing, and a 0-byte envelope is invalid on the wire.
    return absl::InvalidArgumentError("envelope is empty (set its kind)");
  }
  const uint64_t body = uint64_t{envelope_bytes} + message_bytes + attachment_size;
  if (attachment_size > UINT32_MAX || body > limits.max_body_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "frame body of ", body, " bytes exceeds the limit of ", limits.max_body_bytes));
  }
  if (envelope_bytes > limits.max_envelope_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat("envelope of ", envelope_bytes,
                                                     " bytes exceeds the limit of ",
                                                     limits.max_envelope_bytes));
  }
  absl::Status envelope_ok = CheckEnvelope(*envelope, message_bytes + attachment_size, limits);
  if (!envelope_ok.ok()) return envelope_ok;

  const size_t start = out->size();
  const size_t head_bytes = kFrameHeaderSize + envelope_bytes + message_bytes;
  out->reserve(start + head_bytes + extra_capacity);
  out->resize(start + head_bytes);
  char* p = &(*out)[start];
  std::memcpy(p, kFrameMagic, sizeof(kFrameMagic));
  p[4] = static_cast<char>(kProtocolVersion);
  p[5] = p[6] = p[7] = 0;
  StoreBigEndian32(static_cast<uint32_t>(body), p + 8);
  StoreBigEndian32(static_cast<uint32_t>(envelope_bytes), p + 12);
  p += kFrameHeaderSize;
  envelope->SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(p));
  p += envelope_bytes;
  if (message_bytes > 0) message->SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(p));
  return absl::OkStatus();
}

}  // namespace

absl::Status EncodeFrameHead(Envelope envelope, const google::protobuf::MessageLite* message,
                             size_t attachment_size, const FrameLimits& limits, std::string* out) {
  return EncodeFrameHead(&envelope, message, attachment_size, limits, out);
}

absl::Status EncodeFrameHead(Envelope* envelope, const google::protobuf::MessageLite* message,
                             size_t attachment_size, const FrameLimits& limits, std::string* out) {
  return AppendFrameHead(envelope, message, attachment_size, limits, 0, out);
}

absl::Status EncodeFrame(Envelope* envelope, const google::protobuf::MessageLite* message,
                         absl::string_view attachment, const FrameLimits& limits,
                         std::string* out) {
  absl::Status head =
      AppendFrameHead(envelope, message, attachment.size(), limits, attachment.size(), out);
  if (!head.ok()) return head;
  out->append(attachment.data(), attachment.size());
  return absl::OkStatus();
}

absl::Status EncodeFrame(Envelope envelope, const google::protobuf::MessageLite* message,
                         absl::string_view attachment, const FrameLimits& limits,
                         std::string* out) {
  return EncodeFrame(&envelope, message, attachment, limits, out);
}

}  // namespace framerpc

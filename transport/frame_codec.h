// The framerpc frame codec: a pure function over bytes, with no sockets. The format is specified
// byte by byte in docs/protocol.md; this file and that document must agree.
//
//   offset size  field
//   0      4     magic "FRPC" (0x46 0x52 0x50 0x43)
//   4      1     version (1)
//   5      3     reserved, must be zero
//   8      4     body length   = envelope length + payload length (uint32, big-endian)
//   12     4     envelope length (uint32, big-endian), >= 1
//   16     ...   envelope (a serialized framerpc.Envelope), then the payload
//
// The payload is the serialized message followed by `envelope.attachment_size` raw bytes.
#ifndef FRAMERPC_TRANSPORT_FRAME_CODEC_H_
#define FRAMERPC_TRANSPORT_FRAME_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message_lite.h"
#include "transport/envelope.pb.h"

namespace framerpc {

inline constexpr char kFrameMagic[4] = {'F', 'R', 'P', 'C'};
inline constexpr uint8_t kProtocolVersion = 1;
inline constexpr size_t kFrameHeaderSize = 16;

// Limits. The body and envelope lengths are checked from the header, before any of the body is
// buffered; the metadata limit is checked once the (already bounded) envelope has been parsed.
struct FrameLimits {
  // Largest body (envelope + payload). The default is 64 MiB.
  uint32_t max_body_bytes = 64u << 20;
  // Largest envelope, part of the body.
  uint32_t max_envelope_bytes = 64u << 10;
  // Largest sum of key and value sizes over envelope.metadata.
  uint32_t max_metadata_bytes = 16u << 10;
};

// One decoded frame. `payload` holds the message bytes followed by the attachment bytes, unless
// the attachment is detached: then `payload` holds the message bytes alone and `detached` the
// attachment, read from the socket into a string of its own (FrameReader) so that it can be handed
// over without a copy. Use the accessors below rather than `payload` directly.
struct Frame {
  Envelope envelope;
  std::string payload;
  bool attachment_detached = false;
  std::string detached;

  // The payload's length on the wire: message and attachment.
  size_t payload_size() const { return payload.size() + detached.size(); }
  absl::string_view message_bytes() const {
    if (attachment_detached) return payload;
    return absl::string_view(payload).substr(0, payload.size() - envelope.attachment_size());
  }
  absl::string_view attachment() const {
    if (attachment_detached) return detached;
    return absl::string_view(payload).substr(payload.size() - envelope.attachment_size());
  }
  // Whether TakeAttachment moves the attachment without a copy: it is detached, or the message
  // part is empty (the usual cases for bulk data).
  bool AttachmentTakenWhole() const {
    return attachment_detached || envelope.attachment_size() == payload.size();
  }
  // Moves the attachment into `out` (copied unless AttachmentTakenWhole()). Leaves `payload`
  // unspecified: read the message first.
  void TakeAttachment(std::string* out) {
    if (attachment_detached) {
      out->swap(detached);
    } else if (envelope.attachment_size() == payload.size()) {
      out->swap(payload);
    } else {
      out->assign(attachment().data(), attachment().size());
    }
  }
};

// Sets frame->payload (and, split off, frame->detached) from `bytes`, the payload of a frame
// whose envelope is already in frame->envelope. An attachment behind a message short enough to
// be held inside std::string itself (its small-string capacity) is detached: that costs no
// allocation, and TakeAttachment then moves the attachment instead of copying it.
void AssignPayload(absl::string_view bytes, Frame* frame);

enum class DecodeOutcome {
  kNeedMore,  // `input` holds a valid prefix of a frame; call again with more bytes.
  kFrame,     // a frame was decoded from the first `consumed` bytes.
  kError,     // the stream is corrupt or hostile; `error` says why. Close the connection.
};

struct DecodeResult {
  DecodeOutcome outcome = DecodeOutcome::kNeedMore;
  size_t consumed = 0;
  absl::Status error;
};

// Decodes the first frame in `input`, which may hold a partial frame or many frames. Fails as
// soon as the bytes seen prove the stream bad: a wrong magic byte is rejected before the rest of
// the header arrives, an oversized length before any of the body is buffered, and a bad envelope
// as soon as the envelope is complete.
// Errors (see docs/protocol.md):
//   INVALID_ARGUMENT   bad magic, non-zero reserved bytes, envelope length 0 or larger than the
//                      body, an envelope that does not parse, attachment larger than payload
//   UNIMPLEMENTED      unsupported version
//   RESOURCE_EXHAUSTED body, envelope or metadata over its limit
DecodeResult DecodeFrame(absl::string_view input, const FrameLimits& limits, Frame* frame);

// Decodes the header and the envelope at the front of `input`, without the payload (which need
// not have arrived): kFrame once both are complete and valid, with `consumed` = header + envelope
// bytes and *body_bytes the whole body's length. Every check DecodeFrame makes on them is made
// here too (the attachment against the announced payload length).
DecodeResult DecodeEnvelope(absl::string_view input, const FrameLimits& limits, Envelope* envelope,
                            uint32_t* body_bytes);

// Checks only the header at the front of `input` (which may be shorter than a header). Returns
// OK when the bytes so far are a valid header prefix. Sets *body_bytes when the header is complete.
absl::Status CheckFrameHeader(absl::string_view input, const FrameLimits& limits,
                              uint32_t* body_bytes, uint32_t* envelope_bytes);

// Appends one frame: `envelope` (whose attachment_size is set here), then `message` serialized
// (may be null for an empty message), then `attachment`. Fails with RESOURCE_EXHAUSTED, leaving
// `out` unchanged, if the frame would break `limits`, and with INVALID_ARGUMENT for an envelope
// that serializes to 0 bytes (no kind set).
absl::Status EncodeFrame(Envelope envelope, const google::protobuf::MessageLite* message,
                         absl::string_view attachment, const FrameLimits& limits,
                         std::string* out);
// The same, with `envelope` the caller's (its attachment_size is set here): a caller that reuses
// one Envelope for many frames keeps its strings' memory, so encoding allocates nothing new.
absl::Status EncodeFrame(Envelope* envelope, const google::protobuf::MessageLite* message,
                         absl::string_view attachment, const FrameLimits& limits, std::string* out);

// As EncodeFrame, but appends everything except the attachment's bytes: the frame is `out`'s new
// bytes followed by `attachment_size` bytes that the caller sends from its own buffer (e.g. with
// writev), so that bulk data is not copied to build the frame. Same checks and errors.
absl::Status EncodeFrameHead(Envelope envelope, const google::protobuf::MessageLite* message,
                             size_t attachment_size, const FrameLimits& limits, std::string* out);
// The same with the caller's envelope, as EncodeFrame(Envelope*, ...).
absl::Status EncodeFrameHead(Envelope* envelope, const google::protobuf::MessageLite* message,
                             size_t attachment_size, const FrameLimits& limits, std::string* out);

}  // namespace framerpc

#endif  // FRAMERPC_TRANSPORT_FRAME_CODEC_H_

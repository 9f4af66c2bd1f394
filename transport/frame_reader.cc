#include "transport/frame_reader.h"

#include <utility>

namespace framerpc {

FrameReadResult FrameReader::Next(Buffer* buffer, Frame* frame) {
  FrameReadResult result;
  if (buffer->diverting()) {
    if (!buffer->divert_complete()) return result;  // kNeedMore
    frame->envelope = std::move(pending_envelope_);
    frame->payload = buffer->TakeDiverted();
    ++bodies_read_in_place_;
    result.outcome = DecodeOutcome::kFrame;
    result.body_bytes = pending_body_bytes_;
    return result;
  }
  const DecodeResult decoded = DecodeFrame(buffer->view(), limits_, frame);
  if (decoded.outcome == DecodeOutcome::kFrame) {
    buffer->Consume(decoded.consumed);
    result.outcome = DecodeOutcome::kFrame;
    result.body_bytes = static_cast<uint32_t>(decoded.consumed - kFrameHeaderSize);
    return result;
  }
  if (decoded.outcome == DecodeOutcome::kError) {
    result.outcome = DecodeOutcome::kError;
    result.error = decoded.error;
    return result;
  }
  // Incomplete. If its header and envelope are here and its body is large, read the rest of the
  // body in place from now on.
  uint32_t body = 0;
  const DecodeResult head = DecodeEnvelope(buffer->view(), limits_, &pending_envelope_, &body);
  if (head.outcome == DecodeOutcome::kError) {
    result.outcome = DecodeOutcome::kError;
    result.error = head.error;
    return result;
  }
  if (head.outcome != DecodeOutcome::kFrame) return result;
  const size_t payload = kFrameHeaderSize + body - head.consumed;
  if (body > kMaxDivertBodyBytes || payload < kMinDivertPayloadBytes) return result;
  buffer->Consume(head.consumed);
  buffer->BeginDivert(payload);  // takes the part of the payload already buffered
  pending_body_bytes_ = body;
  return result;
}

}  // namespace framerpc

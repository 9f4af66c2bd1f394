#include "transport/frame_reader.h"

#include <memory>
#include <utility>

namespace framerpc {

FrameReader::~FrameReader() {
  if (reserved_ > 0) budget_->Release(reserved_);
}

FrameReadResult FrameReader::Next(Buffer* buffer, Frame* frame) {
  FrameReadResult result;
  if (buffer->diverting()) {
    if (!buffer->divert_complete()) return result;  // kNeedMore
    if (reserved_ > 0) budget_->Release(std::exchange(reserved_, 0));
    frame->envelope = std::move(*pending_envelope_);
    pending_envelope_.reset();
    frame->payload = buffer->TakeDiverted();
    ++bodies_read_in_place_;
    result.outcome = DecodeOutcome::kFrame;
    result.body_bytes = pending_body_bytes_;
    return result;
  }
  // Header and envelope first (every check runs on them); then the payload, whole or diverted.
  uint32_t body = 0;
  const DecodeResult head = DecodeEnvelope(buffer->view(), limits_, &frame->envelope, &body);
  if (head.outcome == DecodeOutcome::kError) {
    result.outcome = DecodeOutcome::kError;
    result.error = head.error;
    return result;
  }
  if (head.outcome != DecodeOutcome::kFrame) return result;  // kNeedMore
  if (buffer->readable_bytes() - kFrameHeaderSize >= body) {
    frame->payload.assign(buffer->view().data() + head.consumed,
                          kFrameHeaderSize + body - head.consumed);
    buffer->Consume(kFrameHeaderSize + body);
    result.outcome = DecodeOutcome::kFrame;
    result.body_bytes = body;
    return result;
  }
  // Incomplete: a large body is read in place from now on.
  const size_t payload = kFrameHeaderSize + body - head.consumed;
  if (body > max_divert_body_ || payload < min_divert_payload_) return result;
  if (budget_ != nullptr) {
    if (!budget_->TryReserve(payload)) {
      result.over_budget = true;
      return result;
    }
    reserved_ = payload;
  }
  pending_envelope_ = std::make_unique<Envelope>(std::move(frame->envelope));
  buffer->Consume(head.consumed);
  buffer->BeginDivert(payload);  // takes the part of the payload already buffered
  pending_body_bytes_ = body;
  return result;
}

}  // namespace framerpc

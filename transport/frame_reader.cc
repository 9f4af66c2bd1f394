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
    if (detaching_) {
      frame->payload = std::move(pending_message_);
      pending_message_.clear();
      frame->detached = buffer->TakeDiverted();
      frame->attachment_detached = true;
      detaching_ = false;
    } else {
      frame->payload = buffer->TakeDiverted();
      frame->detached.clear();
      frame->attachment_detached = false;
    }
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
    AssignPayload(absl::string_view(buffer->view().data() + head.consumed,
                                    kFrameHeaderSize + body - head.consumed),
                  frame);
    buffer->Consume(kFrameHeaderSize + body);
    result.outcome = DecodeOutcome::kFrame;
    result.body_bytes = body;
    return result;
  }
  // Incomplete: a large body is read in place from now on.
  const size_t payload = kFrameHeaderSize + body - head.consumed;
  if (body > max_divert_body_ || payload < min_divert_payload_) return result;
  // A large attachment behind a small message: wait for the message, then read the attachment
  // alone in place, so that it is handed over without a copy (Frame::attachment_detached).
  const size_t attachment = frame->envelope.attachment_size();
  const size_t message = payload - attachment;
  const bool detach = attachment >= min_divert_payload_ && message <= kMaxHeldMessageBytes;
  if (detach && buffer->readable_bytes() < head.consumed + message) return result;
  if (budget_ != nullptr) {
    if (!budget_->TryReserve(payload)) {
      result.over_budget = true;
      return result;
    }
    reserved_ = payload;
  }
  pending_envelope_ = std::make_unique<Envelope>(std::move(frame->envelope));
  buffer->Consume(head.consumed);
  detaching_ = detach;
  if (detach) {
    pending_message_.assign(buffer->view().data(), message);
    buffer->Consume(message);
  }
  buffer->BeginDivert(detach ? attachment : payload);  // takes what is already buffered of it
  pending_body_bytes_ = body;
  return result;
}

}  // namespace framerpc

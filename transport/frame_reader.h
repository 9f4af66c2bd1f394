// FrameReader: takes frames out of a connection's input buffer, one at a time, and reads the body
// of a large frame from the socket straight into the string that carries it (Buffer's diversion),
// so that bulk payloads are not copied out of the buffer afterwards. It knows frames and buffers,
// not sockets or RPC.
//
// What it allocates ahead of the bytes: a diverted body's storage is reserved once its header and
// envelope have arrived and passed every check (the body limit included), but written
// (committed) only as the bytes arrive (Buffer::BeginDivert). So a frame costs its own size plus
// a small constant: the buffer holds at most one read beyond a frame's start. With a ByteBudget,
// the body's size is taken from it before the storage is reserved, and given back when the frame
// is complete (or the reader destroyed); when it does not fit, Next() reports over_budget and
// leaves the frame where it is, to be tried again when there is room.
//
// A frame whose attachment is large (at least the divert threshold) and whose message is small
// (at most kMaxHeldMessageBytes) is read with its attachment detached: the message is buffered
// and copied out, and only the attachment is read in place, into a string of its own, so that the
// frame's user can take it without a copy (Frame::TakeAttachment).
//
// Threading: one reader per connection, used on that connection's loop thread with its buffer.
#ifndef FRAMERPC_TRANSPORT_FRAME_READER_H_
#define FRAMERPC_TRANSPORT_FRAME_READER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "transport/buffer.h"
#include "transport/byte_budget.h"
#include "transport/frame_codec.h"

namespace framerpc {

struct FrameReadResult {
  DecodeOutcome outcome = DecodeOutcome::kNeedMore;
  uint32_t body_bytes = 0;  // of the frame returned (its flow-control cost)
  absl::Status error;       // kError: why; the connection must be closed
  // kNeedMore because the budget has no room for the next frame's body: stop reading until it
  // has (ByteBudget::WaitForRoom), then call Next() again.
  bool over_budget = false;
};

class FrameReader {
 public:
  static constexpr size_t kMinDivertPayloadBytes = 16 << 10;
  static constexpr size_t kMaxDivertBodyBytes = UINT32_MAX;
  // Largest message held in the buffer ahead of a detached attachment.
  static constexpr size_t kMaxHeldMessageBytes = 4096;

  explicit FrameReader(FrameLimits limits, size_t min_divert_payload = kMinDivertPayloadBytes,
                       size_t max_divert_body = kMaxDivertBodyBytes)
      : limits_(limits),
        min_divert_payload_(min_divert_payload),
        max_divert_body_(max_divert_body) {}
  ~FrameReader();
  FrameReader(const FrameReader&) = delete;
  FrameReader& operator=(const FrameReader&) = delete;

  // Bodies read in place are first taken from `budget` (not owned; must outlive the reader).
  void set_budget(ByteBudget* budget) { budget_ = budget; }

  // The next frame from `buffer`, consuming its bytes: kFrame (in *frame), kNeedMore (read more
  // into `buffer` and call again; a large body may now be diverting), or kError (the errors of
  // DecodeFrame; an invalid envelope of a large frame is reported as soon as the envelope is in).
  FrameReadResult Next(Buffer* buffer, Frame* frame);

  // The body length of the frame being read in place, while Buffer::diverting().
  uint32_t pending_body_bytes() const { return pending_body_bytes_; }

  // Whether the body being read in place holds a share of the budget.
  bool holds_budget() const { return reserved_ > 0; }

  // Frames whose body was read in place (for tests and benchmarks).
  uint64_t bodies_read_in_place() const { return bodies_read_in_place_; }

 private:
  const FrameLimits limits_;
  const size_t min_divert_payload_;  // the constants above, except in tests and fuzzing
  const size_t max_divert_body_;
  ByteBudget* budget_ = nullptr;
  size_t reserved_ = 0;        // taken from budget_ for the body being diverted
  // Of the body being diverted; allocated only then, so that an idle connection's reader holds
  // no envelope.
  std::unique_ptr<Envelope> pending_envelope_;
  bool detaching_ = false;     // the diversion holds the attachment alone
  std::string pending_message_;  // when detaching_: the message bytes
  uint32_t pending_body_bytes_ = 0;
  uint64_t bodies_read_in_place_ = 0;
};

}  // namespace framerpc

#endif  // FRAMERPC_TRANSPORT_FRAME_READER_H_

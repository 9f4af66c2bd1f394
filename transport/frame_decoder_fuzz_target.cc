// The frame decoder's fuzz entry point, shared by the libFuzzer binary
// (//transport:frame_decoder_fuzzer) and the deterministic mutation test in the unit suite.
//
// Two checks on every input: DecodeFrame's invariants, frame after frame as a connection would
// decode them; and, differentially, FrameReader fed the same bytes in small pieces (diverting
// every body of 8 bytes or more, so that the in-place path runs on small inputs too) must give
// exactly the same frames and end the same way.
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "transport/buffer.h"
#include "transport/frame_codec.h"
#include "transport/frame_reader.h"

namespace {

struct Decoded {
  std::vector<std::pair<std::string, std::string>> frames;  // envelope bytes, payload
  bool error = false;
};

// A detached attachment (AssignPayload, FrameReader) is the same payload, kept in two strings.
std::string WholePayload(const framerpc::Frame& frame) {
  return std::string(frame.message_bytes()) + std::string(frame.attachment());
}

Decoded DecodeWhole(absl::string_view input, const framerpc::FrameLimits& limits) {
  Decoded out;
  while (!input.empty()) {
    framerpc::Frame frame;
    framerpc::DecodeResult result = framerpc::DecodeFrame(input, limits, &frame);
    if (result.outcome == framerpc::DecodeOutcome::kError) out.error = true;
    if (result.outcome != framerpc::DecodeOutcome::kFrame) break;
    // Invariants of every decoded frame.
    if (result.consumed < framerpc::kFrameHeaderSize || result.consumed > input.size()) {
      __builtin_trap();
    }
    if (frame.attachment().size() + frame.message_bytes().size() != frame.payload_size()) {
      __builtin_trap();
    }
    out.frames.emplace_back(frame.envelope.SerializeAsString(), WholePayload(frame));
    input.remove_prefix(result.consumed);
  }
  return out;
}

Decoded ReadInPieces(absl::string_view input, const framerpc::FrameLimits& limits) {
  static constexpr size_t kPieces[] = {1, 3, 7, 16, 64, 5};
  Decoded out;
  framerpc::Buffer buffer;
  framerpc::FrameReader reader(limits, /*min_divert_payload=*/8);
  size_t piece = 0;
  while (!input.empty() && !out.error) {
    const size_t n = std::min(input.size(), kPieces[piece++ % 6]);
    buffer.Append(input.substr(0, n));
    input.remove_prefix(n);
    for (;;) {
      framerpc::Frame frame;
      const framerpc::FrameReadResult result = reader.Next(&buffer, &frame);
      if (result.outcome == framerpc::DecodeOutcome::kError) out.error = true;
      if (result.outcome != framerpc::DecodeOutcome::kFrame) break;
      // A detached attachment (FrameReader) is the same payload, kept in two strings.
      if (frame.attachment_detached &&
          frame.detached.size() != frame.envelope.attachment_size()) {
        __builtin_trap();
      }
      out.frames.emplace_back(frame.envelope.SerializeAsString(), WholePayload(frame));
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  framerpc::FrameLimits limits;
  limits.max_body_bytes = 1 << 20;
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  const Decoded whole = DecodeWhole(input, limits);
  const Decoded pieces = ReadInPieces(input, limits);
  if (whole.error != pieces.error || whole.frames != pieces.frames) __builtin_trap();
  return 0;
}

// The frame decoder's fuzz entry point, shared by the libFuzzer binary
// (//transport:frame_decoder_fuzzer) and the deterministic mutation test in the unit suite.
#include <cstddef>
#include <cstdint>

#include "transport/frame_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  framerpc::FrameLimits limits;
  limits.max_body_bytes = 1 << 20;
  absl::string_view input(reinterpret_cast<const char*>(data), size);
  // Decode frame after frame, as a connection would, until the bytes run out or turn bad.
  while (!input.empty()) {
    framerpc::Frame frame;
    framerpc::DecodeResult result = framerpc::DecodeFrame(input, limits, &frame);
    if (result.outcome != framerpc::DecodeOutcome::kFrame) break;
    // Invariants of every decoded frame.
    if (result.consumed < framerpc::kFrameHeaderSize || result.consumed > input.size()) {
      __builtin_trap();
    }
    if (frame.attachment().size() + frame.message_bytes().size() != frame.payload.size()) {
      __builtin_trap();
    }
    input.remove_prefix(result.consumed);
  }
  return 0;
}

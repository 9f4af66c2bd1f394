// libFuzzer target: raw bytes straight into the frame decoder, as a hostile peer would send them.
//   bazel run --config=fuzz //transport:frame_decoder_fuzzer -- -max_total_time=60
// Without --config=fuzz it builds as a plain program that decodes the files named on its command
// line, so the target keeps compiling with gcc.
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <sstream>

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
    // Invariants a decoded frame must satisfy.
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

#ifndef FRAMERPC_LIBFUZZER
int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    const std::string data = bytes.str();
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(data.data()), data.size());
  }
  return 0;
}
#endif

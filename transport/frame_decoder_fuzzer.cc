// libFuzzer driver for the frame decoder, raw bytes straight in as a hostile peer would send them:
//   bazel run --config=fuzz //transport:frame_decoder_fuzzer -- -max_total_time=60
// Built without --config=fuzz (gcc), it is a plain program that replays the files named on its
// command line through the same entry point, so the target always compiles.
#ifndef FRAMERPC_LIBFUZZER
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

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

// The fuzz target in the unit suite: seeded mutations of valid frame streams, deterministic.
#include <cstdint>
#include <random>
#include <string>

#include "gtest/gtest.h"
#include "transport/frame_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace framerpc {
namespace {

std::string ValidStream() {
  std::string out;
  for (uint64_t id = 1; id <= 3; ++id) {
    Envelope envelope;
    envelope.set_kind(REQUEST);
    envelope.set_call_id(id);
    envelope.set_method("/framerpc.echo.EchoService/Say");
    envelope.set_timeout_us(1000);
    MetadataEntry* entry = envelope.add_metadata();
    entry->set_key("k");
    entry->set_value("v");
    EXPECT_TRUE(EncodeFrame(envelope, nullptr, std::string(id * 5, 'a'), {}, &out).ok());
  }
  return out;
}

TEST(FrameDecoderFuzzTest, SeededMutationsNeverBreakInvariants) {
  const std::string seed = ValidStream();
  std::mt19937 rng(20261123);
  for (int iteration = 0; iteration < 200000; ++iteration) {
    std::string input = seed;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t at = rng() % input.size();
      switch (rng() % 4) {
        case 0: input[at] = static_cast<char>(rng()); break;                  // replace
        case 1: input[at] ^= static_cast<char>(1u << (rng() % 8)); break;     // flip a bit
        case 2: input.erase(at, 1 + rng() % 8); break;                        // delete
        case 3: input.insert(at, 1 + rng() % 8, static_cast<char>(rng())); break;  // insert
      }
      if (input.empty()) input = seed;
    }
    input.resize(rng() % (input.size() + 1));  // and cut anywhere
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
  }
}

}  // namespace
}  // namespace framerpc

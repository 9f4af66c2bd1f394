// Test helper: deterministic bytes that differ at every offset, so that a misplaced, lost or
// repeated slice shows up when the bytes are compared.
#ifndef FRAMERPC_TRANSPORT_TEST_BYTES_H_
#define FRAMERPC_TRANSPORT_TEST_BYTES_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace framerpc {

inline std::string Pattern(size_t n, uint32_t seed = 1) {
  std::string out(n, '\0');
  uint32_t x = seed;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    out[i] = static_cast<char>(x >> 24);
  }
  return out;
}

}  // namespace framerpc

#endif  // FRAMERPC_TRANSPORT_TEST_BYTES_H_

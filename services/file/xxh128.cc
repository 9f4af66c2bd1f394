#include "services/file/xxh128.h"

#include <xxhash.h>

#include <cstdlib>
#include <utility>

namespace framerpc::file {
namespace {

XXH3_state_t* State(void* state) { return static_cast<XXH3_state_t*>(state); }

// libxxhash fails only on allocation failure or a null argument; like a failed `new`, neither is
// something a caller could handle.
void Check(XXH_errorcode code) {
  if (code != XXH_OK) std::abort();
}

}  // namespace

Xxh128::Xxh128() : state_(XXH3_createState()) {
  if (state_ == nullptr) std::abort();
  Check(XXH3_128bits_reset(State(state_)));
}

Xxh128::~Xxh128() { XXH3_freeState(State(state_)); }

Xxh128::Xxh128(Xxh128&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}

Xxh128& Xxh128::operator=(Xxh128&& other) noexcept {
  std::swap(state_, other.state_);
  return *this;
}

void Xxh128::Update(absl::string_view data) {
  if (!data.empty()) Check(XXH3_128bits_update(State(state_), data.data(), data.size()));
}

std::string Xxh128::Finish() {
  XXH128_canonical_t canonical;
  XXH128_canonicalFromHash(&canonical, XXH3_128bits_digest(State(state_)));
  static_assert(sizeof(canonical.digest) == kDigestBytes);
  std::string digest(reinterpret_cast<const char*>(canonical.digest), kDigestBytes);
  Check(XXH3_128bits_reset(State(state_)));
  return digest;
}

std::string Xxh128::Of(absl::string_view data) {
  Xxh128 xxh;
  xxh.Update(data);
  return xxh.Finish();
}

}  // namespace framerpc::file

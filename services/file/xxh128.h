// XXH3-128 (xxHash's XXH3, 128-bit output, seed 0) for the file service's default integrity check,
// computed by the system's libxxhash (libxxhash-dev), streaming. It is a checksum, not a
// cryptographic hash: it catches corruption on the way, at memory speed on one core, where SHA-256
// caps a transfer at about 1.8 GB/s (docs/file_service.md). The same digest as `xxh128sum` and
// rsync's xxh128.
//
// The digest is the canonical form (XXH128_canonicalFromHash): 16 bytes, the high 64 bits first,
// each big-endian; xxh128sum prints it as hex, and python3-xxhash's xxh3_128().digest() and
// hash-wasm's xxhash128 give the same bytes.
//
// Thread safety: an Xxh128 object belongs to one thread at a time; distinct objects are
// independent. Move-only.
#ifndef FRAMERPC_SERVICES_FILE_XXH128_H_
#define FRAMERPC_SERVICES_FILE_XXH128_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace framerpc::file {

class Xxh128 {
 public:
  static constexpr size_t kDigestBytes = 16;

  Xxh128();
  ~Xxh128();
  Xxh128(Xxh128&& other) noexcept;
  Xxh128& operator=(Xxh128&& other) noexcept;
  Xxh128(const Xxh128&) = delete;
  Xxh128& operator=(const Xxh128&) = delete;

  void Update(absl::string_view data);
  // The digest of everything given to Update since construction or the last Finish, as
  // kDigestBytes raw bytes (canonical form). Starts a new, empty hash.
  std::string Finish();

  // The digest of `data` in one step.
  static std::string Of(absl::string_view data);

 private:
  void* state_;  // XXH3_state_t*, kept opaque so that users need no xxHash headers.
};

}  // namespace framerpc::file

#endif  // FRAMERPC_SERVICES_FILE_XXH128_H_

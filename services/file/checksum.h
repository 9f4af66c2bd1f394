// The file service's checksums, one chosen per transfer: XXH3-128 (xxh128.h), the default of this
// tree's clients, which catches corruption at memory speed, and SHA-256 (sha256.h), for users who
// compare with sha256sum or store content by its hash. Neither authenticates anything: a digest
// sent on the same channel as the data protects only against corruption (with TLS, the record
// layer authenticates the bytes). docs/file_service.md, "Checksums".
//
// Thread safety: a Hasher belongs to one thread at a time; the functions are stateless.
// Move-only.
#ifndef FRAMERPC_SERVICES_FILE_CHECKSUM_H_
#define FRAMERPC_SERVICES_FILE_CHECKSUM_H_

#include <cstddef>
#include <string>
#include <variant>

#include "absl/strings/string_view.h"
#include "services/file/sha256.h"
#include "services/file/xxh128.h"

namespace framerpc::file {

enum class HashAlgorithm {
  kSha256,
  kXxh128,
};

// The digest's size in bytes: 32 (SHA-256) or 16 (XXH3-128).
size_t DigestBytes(HashAlgorithm algorithm);

// "SHA-256" or "XXH3-128", as error messages and the CLI name them.
absl::string_view AlgorithmName(HashAlgorithm algorithm);

// A running hash in one of the algorithms.
class Hasher {
 public:
  explicit Hasher(HashAlgorithm algorithm);
  Hasher(Hasher&&) noexcept = default;
  Hasher& operator=(Hasher&&) noexcept = default;
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;

  HashAlgorithm algorithm() const { return algorithm_; }

  void Update(absl::string_view data);
  // The digest of everything given to Update since construction or the last Finish, as
  // DigestBytes(algorithm()) raw bytes. Starts a new, empty hash.
  std::string Finish();

  // The digest of `data` in one step.
  static std::string Of(HashAlgorithm algorithm, absl::string_view data);

 private:
  HashAlgorithm algorithm_;
  std::variant<Sha256, Xxh128> state_;
};

}  // namespace framerpc::file

#endif  // FRAMERPC_SERVICES_FILE_CHECKSUM_H_

// SHA-256 (FIPS 180-4) for the file service's integrity checks, computed by OpenSSL's libcrypto,
// which uses the CPU's SHA instructions where it has them (about 1.9 GB/s on the benchmark
// machine; a portable implementation of our own would run at a fraction of that and would cap
// every transfer). docs/file_service.md has the measurement.
//
// Thread safety: a Sha256 object belongs to one thread at a time; distinct objects are
// independent. Move-only.
#ifndef FRAMERPC_SERVICES_FILE_SHA256_H_
#define FRAMERPC_SERVICES_FILE_SHA256_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace framerpc::file {

class Sha256 {
 public:
  static constexpr size_t kDigestBytes = 32;

  Sha256();
  ~Sha256();
  Sha256(Sha256&& other) noexcept;
  Sha256& operator=(Sha256&& other) noexcept;
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(absl::string_view data);
  // The digest of everything given to Update since construction or the last Finish, as
  // kDigestBytes raw bytes. Starts a new, empty hash.
  std::string Finish();

  // The digest of `data` in one step.
  static std::string Of(absl::string_view data);

 private:
  void* ctx_;  // EVP_MD_CTX*, kept opaque so that users need no OpenSSL headers.
};

// `digest` as lower-case hex, the form sha256sum prints.
std::string DigestToHex(absl::string_view digest);

}  // namespace framerpc::file

#endif  // FRAMERPC_SERVICES_FILE_SHA256_H_

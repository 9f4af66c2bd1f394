#include "services/file/sha256.h"

#include <openssl/evp.h>

#include <cstdlib>
#include <utility>

#include "absl/strings/escaping.h"

namespace framerpc::file {
namespace {

EVP_MD_CTX* Ctx(void* ctx) { return static_cast<EVP_MD_CTX*>(ctx); }

// libcrypto fails only on allocation failure or a broken installation; like a failed `new`,
// neither is something a caller could handle.
void Check(int ok) {
  if (ok != 1) std::abort();
}

}  // namespace

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr) std::abort();
  Check(EVP_DigestInit_ex(Ctx(ctx_), EVP_sha256(), nullptr));
}

Sha256::~Sha256() { EVP_MD_CTX_free(Ctx(ctx_)); }

Sha256::Sha256(Sha256&& other) noexcept : ctx_(std::exchange(other.ctx_, nullptr)) {}

Sha256& Sha256::operator=(Sha256&& other) noexcept {
  std::swap(ctx_, other.ctx_);
  return *this;
}

void Sha256::Update(absl::string_view data) {
  if (!data.empty()) Check(EVP_DigestUpdate(Ctx(ctx_), data.data(), data.size()));
}

std::string Sha256::Finish() {
  std::string digest(kDigestBytes, '\0');
  unsigned int size = 0;
  Check(EVP_DigestFinal_ex(Ctx(ctx_), reinterpret_cast<unsigned char*>(digest.data()), &size));
  if (size != kDigestBytes) std::abort();
  Check(EVP_DigestInit_ex(Ctx(ctx_), EVP_sha256(), nullptr));
  return digest;
}

std::string Sha256::Of(absl::string_view data) {
  Sha256 sha;
  sha.Update(data);
  return sha.Finish();
}

std::string DigestToHex(absl::string_view digest) { return absl::BytesToHexString(digest); }

}  // namespace framerpc::file

#include "services/file/checksum.h"

namespace framerpc::file {
namespace {

std::variant<Sha256, Xxh128> NewState(HashAlgorithm algorithm) {
  if (algorithm == HashAlgorithm::kSha256) return Sha256();
  return Xxh128();
}

}  // namespace

size_t DigestBytes(HashAlgorithm algorithm) {
  return algorithm == HashAlgorithm::kSha256 ? Sha256::kDigestBytes : Xxh128::kDigestBytes;
}

absl::string_view AlgorithmName(HashAlgorithm algorithm) {
  return algorithm == HashAlgorithm::kSha256 ? "SHA-256" : "XXH3-128";
}

Hasher::Hasher(HashAlgorithm algorithm) : algorithm_(algorithm), state_(NewState(algorithm)) {}

void Hasher::Update(absl::string_view data) {
  std::visit([data](auto& state) { state.Update(data); }, state_);
}

std::string Hasher::Finish() {
  return std::visit([](auto& state) { return state.Finish(); }, state_);
}

std::string Hasher::Of(HashAlgorithm algorithm, absl::string_view data) {
  Hasher hasher(algorithm);
  hasher.Update(data);
  return hasher.Finish();
}

}  // namespace framerpc::file

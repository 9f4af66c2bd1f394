#include "services/file/checksum_proto.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace framerpc::file {

absl::StatusOr<HashAlgorithm> AlgorithmFromProto(int algorithm) {
  switch (algorithm) {
    case CHECKSUM_UNSPECIFIED:
    case CHECKSUM_SHA256:
      return HashAlgorithm::kSha256;
    case CHECKSUM_XXH3_128:
      return HashAlgorithm::kXxh128;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("unknown checksum algorithm ", algorithm,
                       " (this server knows CHECKSUM_XXH3_128 = 2 and CHECKSUM_SHA256 = 1)"));
  }
}

ChecksumAlgorithm AlgorithmToProto(HashAlgorithm algorithm) {
  return algorithm == HashAlgorithm::kSha256 ? CHECKSUM_SHA256 : CHECKSUM_XXH3_128;
}

absl::Status CheckDigestSize(HashAlgorithm algorithm, absl::string_view digest,
                             absl::string_view what) {
  if (digest.empty() || digest.size() == DigestBytes(algorithm)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(what, " must be ", DigestBytes(algorithm),
                                                 " bytes (", AlgorithmName(algorithm), "), not ",
                                                 digest.size()));
}

void FillChecksum(HashAlgorithm algorithm, std::string digest, Checksum* out) {
  out->set_algorithm(AlgorithmToProto(algorithm));
  out->set_digest(std::move(digest));
}

}  // namespace framerpc::file

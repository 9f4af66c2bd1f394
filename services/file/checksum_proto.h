// The checksum algorithm of a file-service call (file.proto's ChecksumAlgorithm) as the C++ side
// sees it (checksum.h), both ways, and the digest checks the server and the client share.
//
// Stateless; thread-safe.
#ifndef FRAMERPC_SERVICES_FILE_CHECKSUM_PROTO_H_
#define FRAMERPC_SERVICES_FILE_CHECKSUM_PROTO_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/file/checksum.h"
#include "services/file/file.pb.h"

namespace framerpc::file {

// CHECKSUM_UNSPECIFIED and CHECKSUM_SHA256 are SHA-256 (a request from before the choice means
// SHA-256); CHECKSUM_XXH3_128 is XXH3-128. Any other value (a newer peer's, or garbage) is
// INVALID_ARGUMENT naming it and the algorithms known.
absl::StatusOr<HashAlgorithm> AlgorithmFromProto(int algorithm);

ChecksumAlgorithm AlgorithmToProto(HashAlgorithm algorithm);

// OK when `digest` is empty (none given) or DigestBytes(algorithm) long; otherwise
// INVALID_ARGUMENT "<what> must be N bytes (<algorithm>), not M".
absl::Status CheckDigestSize(HashAlgorithm algorithm, absl::string_view digest,
                             absl::string_view what);

// Fills `out` with `algorithm` and `digest`.
void FillChecksum(HashAlgorithm algorithm, std::string digest, Checksum* out);

}  // namespace framerpc::file

#endif  // FRAMERPC_SERVICES_FILE_CHECKSUM_PROTO_H_

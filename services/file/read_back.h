// The digest (SHA-256 or XXH3-128: checksum.h) of an upload's staged file, read back through the
// upload's own fd once all of it is written: the digest an upload is checked against, and the one
// its reply carries. Hashing the bytes as they arrive would vouch for what the client sent; reading
// them back vouches for what the file holds, which is what the commit publishes (so bytes another
// process wrote into the file are caught, and a file that grew or shrank is refused).
//
// The file is read through the page cache, where an upload written by WriteBehind
// (write_behind.h) still is: the read-back costs a copy from memory and the hash, not a trip to
// the device. Reads are kReadBytes long, small enough for the copy to stay in the CPU's cache
// while it is hashed.
//
// Stateless; thread-safe. Nobody else may move the fd's position during the call (it uses pread,
// so it does not move it either).
#ifndef FRAMERPC_SERVICES_FILE_READ_BACK_H_
#define FRAMERPC_SERVICES_FILE_READ_BACK_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/file/checksum.h"

namespace framerpc::file {

// The size of each read of the read-back (the whole file when it is smaller).
inline constexpr size_t kReadBackBytes = 256 << 10;

// The digest in `algorithm` of bytes [0, size) of the file open (readable) as `fd`, which must be
// exactly `size` bytes long before and after the read: DATA_LOSS "'…' changed while it was staged;
// nothing was written" otherwise. Read errors per FileErrnoToStatus, naming `shown_path`.
// `stop`, if set, is asked between reads; once it returns true the call ends CANCELLED.
absl::StatusOr<std::string> ReadBackDigest(int fd, uint64_t size, HashAlgorithm algorithm,
                                           absl::string_view shown_path,
                                           const std::function<bool()>& stop = nullptr);

}  // namespace framerpc::file

#endif  // FRAMERPC_SERVICES_FILE_READ_BACK_H_

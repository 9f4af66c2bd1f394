// The digest (SHA-256 or XXH3-128: checksum.h) of an upload's staged file, read back through the
// upload's own fd once all of it is written: the digest an upload is checked against, and the one
// its reply carries. Hashing the bytes as they arrive would vouch for what the client sent; reading
// them back vouches for what the file holds, which is what the commit publishes (so bytes another
// process wrote into the file are caught, and a file that grew or shrank is refused).
//
// A file of DirectWriter::kMinDirectBytes or more was written with O_DIRECT, so its pages are not
// in the page cache: it is read back with O_DIRECT too (aligned 1 MiB reads straight from the
// device, the page cache left alone), falling back to ordinary reads where O_DIRECT is refused,
// and each block is read by a thread of the call's own while the caller hashes the one before.
// A smaller file, written through the page cache, is hashed from there in one buffered pass.
//
// Stateless; thread-safe. The fd's O_DIRECT flag is changed during the call and cleared after;
// nobody else may use the fd meanwhile.
#ifndef FRAMERPC_SERVICES_FILE_READ_BACK_H_
#define FRAMERPC_SERVICES_FILE_READ_BACK_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/file/checksum.h"

namespace framerpc::file {

// The digest in `algorithm` of bytes [0, size) of the file open (readable) as `fd`, which must be
// exactly `size` bytes long before and after the read: DATA_LOSS "'…' changed while it was staged;
// nothing was written" otherwise. Read errors per FileErrnoToStatus, naming `shown_path`.
// `stop`, if set, is asked between blocks; once it returns true the call ends CANCELLED.
absl::StatusOr<std::string> ReadBackDigest(int fd, uint64_t size, HashAlgorithm algorithm,
                                           absl::string_view shown_path,
                                           const std::function<bool()>& stop = nullptr);

}  // namespace framerpc::file

#endif  // FRAMERPC_SERVICES_FILE_READ_BACK_H_

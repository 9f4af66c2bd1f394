// Whole-buffer reads and writes on file descriptors, with errors as file-service statuses. Used
// by the service for the files under its root and by the client for local files. Stateless;
// thread-safe.
#ifndef FRAMERPC_SERVICES_FILE_FILE_IO_H_
#define FRAMERPC_SERVICES_FILE_FILE_IO_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/file/checksum.h"

namespace framerpc::file {

// Reads up to `size` bytes at `offset` into `buffer`, retrying short reads and EINTR. Returns the
// number read, which is less than `size` only at the end of the file. `shown_path` names the
// file in error messages (FileErrnoToStatus).
absl::StatusOr<size_t> PreadFull(int fd, char* buffer, size_t size, uint64_t offset,
                                 absl::string_view shown_path);

// Writes all of `data` at the file's current position, retrying short writes and EINTR.
absl::Status WriteAll(int fd, absl::string_view data, absl::string_view shown_path);

// Reserves disk blocks for the file up to `end` bytes without changing its size
// (fallocate FALLOC_FL_KEEP_SIZE), so that writing it later skips the filesystem's per-page
// delayed allocation (ext4: about 0.1 s per GiB less in the writer; docs/file_service.md) and a
// full disk shows before the data moves. RESOURCE_EXHAUSTED when the space or quota is not
// there; OK, doing nothing, where the filesystem cannot preallocate (tmpfs can; some cannot).
absl::Status Preallocate(int fd, uint64_t end, absl::string_view shown_path);

// Feeds bytes [offset, offset + length) of the file to `hasher`, reading through `buffer` (whose
// size is the read size; at least 1). Returns the number hashed: less than `length` only if the
// file ends first. `stop`, if set, is asked between reads; once it returns true the hashing ends
// with CANCELLED (a long hash for a caller who has gone away).
absl::StatusOr<uint64_t> HashRange(int fd, uint64_t offset, uint64_t length, Hasher* hasher,
                                   std::string* buffer, absl::string_view shown_path,
                                   const std::function<bool()>& stop = nullptr);

}  // namespace framerpc::file

#endif  // FRAMERPC_SERVICES_FILE_FILE_IO_H_

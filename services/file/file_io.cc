#include "services/file/file_io.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "services/file/client_path.h"
#include "services/file/errno_status.h"

namespace framerpc::file {

absl::StatusOr<size_t> PreadFull(int fd, char* buffer, size_t size, uint64_t offset,
                                 absl::string_view shown_path) {
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd, buffer + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return FileErrnoToStatus(errno, absl::StrCat("cannot read ", QuotePath(shown_path)));
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

absl::Status WriteAll(int fd, absl::string_view data, absl::string_view shown_path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return FileErrnoToStatus(errno, absl::StrCat("cannot write ", QuotePath(shown_path)));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::Status Preallocate(int fd, uint64_t end, absl::string_view shown_path) {
  if (end == 0) return absl::OkStatus();
  int rc;
  do {
    rc = ::fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, static_cast<off_t>(end));
  } while (rc != 0 && errno == EINTR);
  if (rc == 0) return absl::OkStatus();
  if (errno == ENOSPC || errno == EDQUOT || errno == EFBIG) {
    return FileErrnoToStatus(errno, absl::StrCat("cannot reserve ", end, " bytes for ",
                                                 QuotePath(shown_path)));
  }
  return absl::OkStatus();  // EOPNOTSUPP and the like: an optimisation we do without
}

absl::StatusOr<uint64_t> HashRange(int fd, uint64_t offset, uint64_t length, Hasher* hasher,
                                   std::string* buffer, absl::string_view shown_path,
                                   const std::function<bool()>& stop) {
  uint64_t hashed = 0;
  while (hashed < length) {
    if (stop && stop()) return absl::CancelledError("the checksum was abandoned");
    const size_t want = static_cast<size_t>(std::min<uint64_t>(buffer->size(), length - hashed));
    absl::StatusOr<size_t> got = PreadFull(fd, buffer->data(), want, offset + hashed, shown_path);
    if (!got.ok()) return got.status();
    hasher->Update(absl::string_view(buffer->data(), *got));
    hashed += *got;
    if (*got < want) break;
  }
  return hashed;
}

}  // namespace framerpc::file

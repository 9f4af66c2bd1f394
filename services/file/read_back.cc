#include "services/file/read_back.h"

#include <errno.h>
#include <sys/stat.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "services/file/client_path.h"
#include "services/file/errno_status.h"
#include "services/file/file_io.h"

namespace framerpc::file {
namespace {

absl::Status Changed(absl::string_view shown_path) {
  return absl::DataLossError(
      absl::StrCat(QuotePath(shown_path),
                   " changed while it was staged (its size or content is not what was "
                   "sent); nothing was written"));
}

absl::Status CheckSize(int fd, uint64_t size, absl::string_view shown_path) {
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    return FileErrnoToStatus(errno, absl::StrCat("cannot stat ", QuotePath(shown_path)));
  }
  return static_cast<uint64_t>(st.st_size) == size ? absl::OkStatus() : Changed(shown_path);
}

}  // namespace

absl::StatusOr<std::string> ReadBackDigest(int fd, uint64_t size, HashAlgorithm algorithm,
                                           absl::string_view shown_path,
                                           const std::function<bool()>& stop) {
  absl::Status status = CheckSize(fd, size, shown_path);
  if (!status.ok()) return status;
  Hasher hasher(algorithm);
  std::string buffer(static_cast<size_t>(std::clamp<uint64_t>(size, 1, kReadBackBytes)), '\0');
  absl::StatusOr<uint64_t> hashed = HashRange(fd, 0, size, &hasher, &buffer, shown_path, stop);
  if (!hashed.ok()) {
    if (absl::IsCancelled(hashed.status())) {
      return absl::CancelledError("the upload was cancelled; nothing was written");
    }
    return hashed.status();
  }
  if (*hashed != size) return Changed(shown_path);  // shorter than written
  status = CheckSize(fd, size, shown_path);
  if (!status.ok()) return status;
  return hasher.Finish();
}

}  // namespace framerpc::file

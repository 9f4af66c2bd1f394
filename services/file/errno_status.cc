#include "services/file/errno_status.h"

#include <errno.h>
#include <string.h>

#include "absl/strings/str_cat.h"

namespace framerpc::file {
namespace {

absl::StatusCode CodeFor(int err) {
  switch (err) {
    case ENOENT:
      return absl::StatusCode::kNotFound;
    case EEXIST:
      return absl::StatusCode::kAlreadyExists;
    case EACCES:
    case EPERM:
      return absl::StatusCode::kPermissionDenied;
    case ENOTDIR:
    case EISDIR:
    case ENOTEMPTY:
    case ELOOP:
    case EROFS:
    case EBUSY:
    case ETXTBSY:
    case EMLINK:
    case ENXIO:
    case EXDEV:
      return absl::StatusCode::kFailedPrecondition;
    case ENAMETOOLONG:
    case EINVAL:
      return absl::StatusCode::kInvalidArgument;
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
    case EMFILE:
    case ENFILE:
    case ENOMEM:
      return absl::StatusCode::kResourceExhausted;
    case EINTR:
    case EAGAIN:
      return absl::StatusCode::kUnavailable;
    default:
      return absl::ErrnoToStatusCode(err);
  }
}

}  // namespace

absl::Status FileErrnoToStatus(int err, absl::string_view what) {
  // strerrordesc_np (glibc >= 2.32) returns a static string: thread-safe, unlike strerror.
  const char* description = strerrordesc_np(err);
  return absl::Status(CodeFor(err),
                      absl::StrCat(what, ": ", description != nullptr ? description : "errno ",
                                   description != nullptr ? "" : absl::StrCat(err)));
}

}  // namespace framerpc::file

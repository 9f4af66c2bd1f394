// Maps the errno of a failed filesystem call to a canonical (gRPC) status code. Stateless;
// thread-safe.
#ifndef FRAMERPC_SERVICES_FILE_ERRNO_STATUS_H_
#define FRAMERPC_SERVICES_FILE_ERRNO_STATUS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace framerpc::file {

// The status for `err` with the message "<what>: <description of err>", where `what` names the
// operation and the client's path, e.g. "cannot open 'a/b'". The mapping:
//   ENOENT                                      -> NOT_FOUND
//   EEXIST                                      -> ALREADY_EXISTS
//   EACCES, EPERM                               -> PERMISSION_DENIED
//   ENOTDIR, EISDIR, ENOTEMPTY, ELOOP, EROFS,
//   EBUSY, ETXTBSY, EMLINK, ENXIO, EXDEV        -> FAILED_PRECONDITION
//   ENAMETOOLONG, EINVAL                        -> INVALID_ARGUMENT
//   ENOSPC, EDQUOT, EFBIG, EMFILE, ENFILE,
//   ENOMEM                                      -> RESOURCE_EXHAUSTED
//   EINTR, EAGAIN                               -> UNAVAILABLE
//   anything else                               -> absl::ErrnoToStatusCode(err)
// Escape detection (EXDEV from RESOLVE_BENEATH) is not decided here: the resolver, which knows
// where an EXDEV came from, reports it as PERMISSION_DENIED itself.
absl::Status FileErrnoToStatus(int err, absl::string_view what);

}  // namespace framerpc::file

#endif  // FRAMERPC_SERVICES_FILE_ERRNO_STATUS_H_

#include "services/file/errno_status.h"

#include <errno.h>

#include "gtest/gtest.h"

namespace framerpc::file {
namespace {

TEST(FileErrnoToStatusTest, MapsToCanonicalCodes) {
  const struct {
    int err;
    absl::StatusCode code;
  } kCases[] = {
      {ENOENT, absl::StatusCode::kNotFound},
      {EEXIST, absl::StatusCode::kAlreadyExists},
      {EACCES, absl::StatusCode::kPermissionDenied},
      {EPERM, absl::StatusCode::kPermissionDenied},
      {ENOTDIR, absl::StatusCode::kFailedPrecondition},
      {EISDIR, absl::StatusCode::kFailedPrecondition},
      {ENOTEMPTY, absl::StatusCode::kFailedPrecondition},
      {ELOOP, absl::StatusCode::kFailedPrecondition},
      {EROFS, absl::StatusCode::kFailedPrecondition},
      {ENAMETOOLONG, absl::StatusCode::kInvalidArgument},
      {ENOSPC, absl::StatusCode::kResourceExhausted},
      {EDQUOT, absl::StatusCode::kResourceExhausted},
      {EMFILE, absl::StatusCode::kResourceExhausted},
      {EAGAIN, absl::StatusCode::kUnavailable},
  };
  for (const auto& c : kCases) {
    EXPECT_EQ(FileErrnoToStatus(c.err, "x").code(), c.code) << "errno " << c.err;
  }
}

TEST(FileErrnoToStatusTest, MessageNamesTheOperationAndTheError) {
  EXPECT_EQ(FileErrnoToStatus(ENOENT, "cannot open 'a/b'").message(),
            "cannot open 'a/b': No such file or directory");
}

}  // namespace
}  // namespace framerpc::file

// Reading one directory into a bounded, sorted listing. Stateless; thread-safe (each call reads
// its own directory stream).
#ifndef FRAMERPC_SERVICES_FILE_DIR_LISTING_H_
#define FRAMERPC_SERVICES_FILE_DIR_LISTING_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/file/file_info.h"
#include "base/scoped_fd.h"

namespace framerpc::file {

// Lists the directory open at `dir` (taken over and closed): the `max_entries` bytewise-smallest
// names greater than `start_after` ("" for the first page), sorted, each with its lstat-style
// info (symlinks are not followed, so nothing outside the root is ever looked at). Memory stays
// O(max_entries) however large the directory. Entries removed while listing are skipped, and so
// are names starting with `hidden_prefix` (unless it is ""): they neither appear nor count.
// `shown_path` names the directory in error messages. Requires max_entries >= 1.
absl::StatusOr<DirListing> ReadDirectory(ScopedFd dir, absl::string_view shown_path,
                                         size_t max_entries, absl::string_view start_after,
                                         absl::string_view hidden_prefix = "");

}  // namespace framerpc::file

#endif  // FRAMERPC_SERVICES_FILE_DIR_LISTING_H_

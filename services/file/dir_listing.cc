#include "services/file/dir_listing.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <queue>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/file/client_path.h"
#include "services/file/errno_status.h"

namespace framerpc::file {
namespace {

struct DirCloser {
  void operator()(DIR* dir) const { ::closedir(dir); }
};
using ScopedDir = std::unique_ptr<DIR, DirCloser>;

}  // namespace

absl::StatusOr<DirListing> ReadDirectory(ScopedFd dir, absl::string_view shown_path,
                                         size_t max_entries, absl::string_view start_after,
                                         absl::string_view hidden_prefix) {
  const std::string what = absl::StrCat("cannot list ", QuotePath(shown_path));
  ScopedDir stream(::fdopendir(dir.get()));
  if (stream == nullptr) return FileErrnoToStatus(errno, what);
  dir.release();  // Now owned by the stream.

  // A max-heap of the smallest names seen: its top is the first to drop when a smaller one comes.
  std::priority_queue<std::string> smallest;
  DirListing listing;
  for (;;) {
    errno = 0;
    const struct dirent* entry = ::readdir(stream.get());
    if (entry == nullptr) {
      if (errno != 0) return FileErrnoToStatus(errno, what);
      break;
    }
    const absl::string_view name(entry->d_name);
    if (name == "." || name == "..") continue;
    if (!hidden_prefix.empty() && absl::StartsWith(name, hidden_prefix)) continue;
    if (!start_after.empty() && name <= start_after) continue;
    if (smallest.size() == max_entries) {
      listing.truncated = true;
      if (name >= smallest.top()) continue;
      smallest.pop();
    }
    smallest.emplace(name);
  }

  std::vector<std::string> names;
  names.reserve(smallest.size());
  for (; !smallest.empty(); smallest.pop()) names.push_back(smallest.top());
  std::reverse(names.begin(), names.end());

  const int dir_fd = ::dirfd(stream.get());
  listing.entries.reserve(names.size());
  for (std::string& name : names) {
    struct stat st;
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;  // Removed since readdir saw it.
      return FileErrnoToStatus(errno, what);
    }
    listing.entries.push_back(DirEntry{std::move(name), FileInfoFromStat(st)});
  }
  return listing;
}

}  // namespace framerpc::file

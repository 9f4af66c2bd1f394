// UploadsInProgress: the files of the uploads a RootDir has staged and not yet committed, by
// (st_dev, st_ino). Their names are reserved (temp_name.h), but a local user who can write in the
// root could still plant a symlink to one; RootDir looks up every file it opens for a read here
// and refuses the ones it finds, so an upload in progress is never read or stat-ed by any name.
// Covers the uploads of this process only.
//
// Thread safety: all methods are safe to call concurrently.
#ifndef FRAMERPC_SERVICES_FILE_UPLOADS_IN_PROGRESS_H_
#define FRAMERPC_SERVICES_FILE_UPLOADS_IN_PROGRESS_H_

#include <sys/stat.h>

#include <cstdint>
#include <mutex>
#include <utility>

#include "absl/container/flat_hash_map.h"

namespace framerpc::file {

class UploadsInProgress {
 public:
  UploadsInProgress() = default;
  UploadsInProgress(const UploadsInProgress&) = delete;
  UploadsInProgress& operator=(const UploadsInProgress&) = delete;

  // Counts the file `st` describes as in progress; Remove takes one count off. (One inode is
  // only ever one upload's, but counting keeps a stray double Add harmless.)
  void Add(const struct stat& st);
  void Remove(const struct stat& st);
  bool Contains(const struct stat& st) const;

 private:
  using Key = std::pair<uint64_t, uint64_t>;  // (st_dev, st_ino)
  static Key KeyOf(const struct stat& st) { return {st.st_dev, st.st_ino}; }

  mutable std::mutex mu_;
  absl::flat_hash_map<Key, int> count_;  // guarded by mu_
};

}  // namespace framerpc::file

#endif  // FRAMERPC_SERVICES_FILE_UPLOADS_IN_PROGRESS_H_

// What the file service reports about a file or directory. Plain value types.
#ifndef FRAMERPC_SERVICES_FILE_FILE_INFO_H_
#define FRAMERPC_SERVICES_FILE_FILE_INFO_H_

#include <sys/stat.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace framerpc::file {

enum class FileType { kRegular, kDirectory, kSymlink, kOther };

struct FileInfo {
  FileType type = FileType::kOther;
  uint64_t size = 0;         // st_size: bytes for a file; for a symlink, its target's length.
  uint32_t permissions = 0;  // st_mode & 07777.
  absl::Time mtime;

  bool is_dir() const { return type == FileType::kDirectory; }
};

FileInfo FileInfoFromStat(const struct stat& st);

struct DirEntry {
  std::string name;  // A single name, never "." or "..".
  FileInfo info;     // Of the entry itself: a symlink is reported as kSymlink, never followed.
};

struct DirListing {
  std::vector<DirEntry> entries;  // Sorted by name (bytewise).
  // True when more names follow the last entry; ask again with start_after = last name.
  bool truncated = false;
};

}  // namespace framerpc::file

#endif  // FRAMERPC_SERVICES_FILE_FILE_INFO_H_

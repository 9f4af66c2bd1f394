#include "services/file/file_info.h"

namespace framerpc::file {

FileInfo FileInfoFromStat(const struct stat& st) {
  FileInfo info;
  if (S_ISREG(st.st_mode)) {
    info.type = FileType::kRegular;
  } else if (S_ISDIR(st.st_mode)) {
    info.type = FileType::kDirectory;
  } else if (S_ISLNK(st.st_mode)) {
    info.type = FileType::kSymlink;
  }
  info.size = st.st_size < 0 ? 0 : static_cast<uint64_t>(st.st_size);
  info.permissions = static_cast<uint32_t>(st.st_mode & 07777);
  info.mtime = absl::TimeFromTimespec(st.st_mtim);
  return info;
}

}  // namespace framerpc::file

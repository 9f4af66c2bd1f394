#include "services/file/stat_proto.h"

namespace framerpc::file {
namespace {

FileKind ToProto(FileType type) {
  switch (type) {
    case FileType::kRegular:
      return FILE_KIND_REGULAR;
    case FileType::kDirectory:
      return FILE_KIND_DIRECTORY;
    case FileType::kSymlink:
      return FILE_KIND_SYMLINK;
    case FileType::kOther:
      break;
  }
  return FILE_KIND_OTHER;
}

}  // namespace

void FillFileStat(const FileInfo& info, FileStat* stat) {
  stat->set_kind(ToProto(info.type));
  stat->set_size(info.size);
  stat->set_mode(info.permissions);
  stat->set_mtime_ns(absl::ToUnixNanos(info.mtime));
}

}  // namespace framerpc::file

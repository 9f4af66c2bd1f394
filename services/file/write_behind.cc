#include "services/file/write_behind.h"

#include <fcntl.h>

#include "services/file/file_io.h"

namespace framerpc::file {

absl::Status WriteBehind::Append(absl::string_view data) {
  absl::Status status = WriteAll(fd_, data, shown_path_);
  if (!status.ok()) return status;
  written_ += data.size();
  if (written_ - started_ >= kWindowBytes) {
    // A hint (see the header): its failure changes nothing the fsync does not report.
    ::sync_file_range(fd_, static_cast<off_t>(started_), static_cast<off_t>(written_ - started_),
                      SYNC_FILE_RANGE_WRITE);
    started_ = written_;
  }
  return absl::OkStatus();
}

}  // namespace framerpc::file

// WriteBehind: appends a stream of bytes to a new file through the page cache, and starts the
// write-back of every completed window (kWindowBytes) as soon as it is written
// (sync_file_range(SYNC_FILE_RANGE_WRITE), which queues the pages for the device and does not
// wait). An upload's staged file is read back and hashed before its commit (read_back.h) and
// fsynced at the commit (pending_file.h); written this way the read-back finds every byte in the
// page cache, the fsync finds nearly all of them on the device already, and the dirty pages one
// upload holds stay about one window plus what the device has not yet taken. On this project's VM
// (docs/file_service.md, "Where the time goes") 1 GiB written, read back and fdatasynced took
// 0.6-1.6 s this way, 1.3-2.8 s written with plain write()s, and 3.5-5.5 s with O_DIRECT (whose
// read-back has to come from the device).
//
// The write-back hint is only a hint: where sync_file_range fails (a filesystem or file that does
// not support it), the bytes are written all the same and the caller's fsync does all the work; an
// I/O error it would have shown is reported by that fsync. The data is written straight from the
// caller's buffer, with no staging copy.
//
// Ownership: the fd belongs to the caller and must outlive the writer; nobody else may write to
// it or move its position while the writer is used. Thread safety: none; one owner at a time.
#ifndef FRAMERPC_SERVICES_FILE_WRITE_BEHIND_H_
#define FRAMERPC_SERVICES_FILE_WRITE_BEHIND_H_

#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace framerpc::file {

class WriteBehind {
 public:
  // The write-back is started each time this many more bytes have been written.
  static constexpr uint64_t kWindowBytes = uint64_t{8} << 20;

  // `fd`: open for writing, positioned at offset 0. `shown_path` names the file in errors.
  WriteBehind(int fd, std::string shown_path) : fd_(fd), shown_path_(std::move(shown_path)) {}
  WriteBehind(const WriteBehind&) = delete;
  WriteBehind& operator=(const WriteBehind&) = delete;

  // Writes all of `data` at the file's position. Errors (a full disk, a file-size limit, an I/O
  // error) are file-service statuses naming the file (FileErrnoToStatus: ENOSPC, EDQUOT and EFBIG
  // are RESOURCE_EXHAUSTED); after one the file's content is undefined.
  absl::Status Append(absl::string_view data);

  // Bytes written so far.
  uint64_t written() const { return written_; }
  // Bytes whose write-back has been started.
  uint64_t write_back_started() const { return started_; }

 private:
  const int fd_;
  const std::string shown_path_;
  uint64_t written_ = 0;
  uint64_t started_ = 0;
};

}  // namespace framerpc::file

#endif  // FRAMERPC_SERVICES_FILE_WRITE_BEHIND_H_

#include "services/file/direct_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "services/file/client_path.h"
#include "services/file/errno_status.h"
#include "services/file/file_io.h"

namespace framerpc::file {

DirectWriter::DirectWriter(int fd, uint64_t expected_bytes, std::string shown_path)
    : fd_(fd), shown_path_(std::move(shown_path)) {
  if (expected_bytes < kMinDirectBytes) return;
  const int flags = ::fcntl(fd_, F_GETFL);
  if (flags < 0) return;
  const uint64_t rounded = (expected_bytes + kAlignment - 1) / kAlignment * kAlignment;
  capacity_ = static_cast<size_t>(std::min<uint64_t>(rounded, kMaxBufferBytes));
  buffer_.reset(static_cast<char*>(std::aligned_alloc(kAlignment, capacity_)));
  if (buffer_ == nullptr) {
    capacity_ = 0;
    return;
  }
  direct_ = ::fcntl(fd_, F_SETFL, flags | O_DIRECT) == 0;  // EINVAL: not on this filesystem
  if (!direct_) {
    buffer_.reset();
    capacity_ = 0;
  }
}

void DirectWriter::StopDirect() {
  if (!direct_) return;
  const int flags = ::fcntl(fd_, F_GETFL);
  if (flags >= 0) ::fcntl(fd_, F_SETFL, flags & ~O_DIRECT);
  direct_ = false;
}

absl::Status DirectWriter::Append(absl::string_view data) {
  if (buffer_ == nullptr) return WriteAll(fd_, data, shown_path_);
  while (!data.empty()) {
    const size_t n = std::min(data.size(), capacity_ - staged_);
    std::memcpy(buffer_.get() + staged_, data.data(), n);
    staged_ += n;
    data.remove_prefix(n);
    if (staged_ == capacity_) {
      absl::Status written = WriteStaged();
      if (!written.ok()) return written;
    }
  }
  return absl::OkStatus();
}

absl::Status DirectWriter::WriteStaged() {
  // A whole buffer is aligned in address, length and (every earlier write being whole buffers)
  // file offset. Anything else goes through the page cache.
  if (staged_ != capacity_) StopDirect();
  size_t done = 0;
  while (done < staged_) {
    const ssize_t n = ::write(fd_, buffer_.get() + done, staged_ - done);
    if (n >= 0) {
      done += static_cast<size_t>(n);
      // A short direct write leaves an unaligned remainder: finish it through the page cache.
      if (done < staged_) StopDirect();
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EINVAL && direct_) {  // the device wants a larger alignment: go buffered
      StopDirect();
      continue;
    }
    return FileErrnoToStatus(errno, absl::StrCat("cannot write ", QuotePath(shown_path_)));
  }
  staged_ = 0;
  return absl::OkStatus();
}

absl::Status DirectWriter::Finish() {
  absl::Status status = staged_ > 0 ? WriteStaged() : absl::OkStatus();
  StopDirect();
  return status;
}

}  // namespace framerpc::file

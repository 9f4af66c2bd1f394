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
  if (flags < 0 || ::fcntl(fd_, F_SETFL, flags | O_DIRECT) != 0) return;  // EINVAL: not here
  const uint64_t rounded = (expected_bytes + kAlignment - 1) / kAlignment * kAlignment;
  capacity_ = static_cast<size_t>(std::min<uint64_t>(rounded, kMaxBufferBytes));
  filling_.reset(static_cast<char*>(std::aligned_alloc(kAlignment, capacity_)));
  spare_.reset(static_cast<char*>(std::aligned_alloc(kAlignment, capacity_)));
  if (filling_ == nullptr || spare_ == nullptr) {
    ::fcntl(fd_, F_SETFL, flags);
    filling_.reset();
    spare_.reset();
    capacity_ = 0;
    return;
  }
  direct_ = true;
  writer_ = std::thread([this] { WriterLoop(); });
}

DirectWriter::~DirectWriter() {
  StopWriter();
  StopDirect();  // the fd is the caller's: leave it as it came
}

void DirectWriter::StopWriter() {
  if (!writer_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  writer_.join();
}

void DirectWriter::WriterLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return writing_ || stop_; });
    if (!writing_) return;  // stop_, with nothing left to write
    char* data = spare_.get();
    lock.unlock();
    absl::Status status = WriteBlock(data, capacity_);
    lock.lock();
    if (error_.ok()) error_ = std::move(status);
    writing_ = false;
    cv_.notify_all();
  }
}

absl::Status DirectWriter::WaitIdle() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return !writing_; });
  return error_;
}

absl::Status DirectWriter::Submit() {
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return !writing_; });
    if (!error_.ok()) return error_;
    std::swap(filling_, spare_);
    writing_ = true;
  }
  cv_.notify_all();
  staged_ = 0;
  return absl::OkStatus();
}

void DirectWriter::StopDirect() {
  if (!direct_) return;
  const int flags = ::fcntl(fd_, F_GETFL);
  if (flags >= 0) ::fcntl(fd_, F_SETFL, flags & ~O_DIRECT);
  direct_ = false;
}

absl::Status DirectWriter::Append(absl::string_view data) {
  if (filling_ == nullptr) return WriteAll(fd_, data, shown_path_);
  while (!data.empty()) {
    const size_t n = std::min(data.size(), capacity_ - staged_);
    std::memcpy(filling_.get() + staged_, data.data(), n);
    staged_ += n;
    data.remove_prefix(n);
    if (staged_ == capacity_) {
      absl::Status submitted = Submit();
      if (!submitted.ok()) return submitted;
    }
  }
  return absl::OkStatus();
}

absl::Status DirectWriter::WriteBlock(const char* data, size_t size) {
  // A whole buffer is aligned in address, length and (every earlier write being whole buffers)
  // file offset. Anything else goes through the page cache.
  if (size != capacity_) StopDirect();
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::write(fd_, data + done, size - done);
    if (n >= 0) {
      done += static_cast<size_t>(n);
      // A short direct write leaves an unaligned remainder: finish it through the page cache.
      if (done < size) StopDirect();
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EINVAL && direct_) {  // the device wants a larger alignment: go buffered
      StopDirect();
      continue;
    }
    return FileErrnoToStatus(errno, absl::StrCat("cannot write ", QuotePath(shown_path_)));
  }
  return absl::OkStatus();
}

absl::Status DirectWriter::Finish() {
  if (filling_ == nullptr) return absl::OkStatus();
  absl::Status status = WaitIdle();
  StopWriter();  // from here on this thread is the only one writing
  if (status.ok() && staged_ > 0) status = WriteBlock(filling_.get(), staged_);
  staged_ = 0;
  StopDirect();
  return status;
}

}  // namespace framerpc::file

#include "transport/buffer.h"

#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace framerpc {

void Buffer::Consume(size_t n) {
  read_index_ += std::min(n, readable_bytes());
  if (read_index_ == write_index_) read_index_ = write_index_ = 0;
}

void Buffer::Append(absl::string_view bytes) {
  if (diverting_) bytes.remove_prefix(FillDiversion(bytes));
  if (bytes.empty()) return;  // A default string_view's data() is null: no memcpy from it.
  EnsureWritable(bytes.size());
  std::memcpy(&storage_[write_index_], bytes.data(), bytes.size());
  write_index_ += bytes.size();
}

void Buffer::Reserve(size_t n) { EnsureWritable(n); }

bool Buffer::ReleaseIfEmpty() {
  if (readable_bytes() != 0 || diverting_ || storage_.empty()) return false;
  std::string().swap(storage_);
  read_index_ = write_index_ = 0;
  return true;
}

char* Buffer::BeginWrite(size_t want, size_t* room) {
  writing_diversion_ = diverting_ && divert_filled_ < divert_total_;
  if (writing_diversion_) {
    GrowDiversion(want);
    *room = diverted_.size() - divert_filled_;
    return &diverted_[divert_filled_];
  }
  EnsureWritable(want);
  *room = storage_.size() - write_index_;
  return &storage_[write_index_];
}

void Buffer::CommitWrite(size_t n) {
  if (writing_diversion_) {
    divert_filled_ += n;
  } else {
    write_index_ += n;
  }
  writing_diversion_ = false;
}

void Buffer::EnsureWritable(size_t n) {
  if (storage_.size() - write_index_ >= n) return;
  const size_t readable = readable_bytes();
  if (read_index_ > 0 && storage_.size() - readable >= n) {
    // Slide the unread bytes to the front instead of growing.
    std::memmove(&storage_[0], &storage_[read_index_], readable);
  } else {
    std::string bigger;
    bigger.resize(std::max(storage_.size() * 2, readable + n));
    if (readable > 0) std::memcpy(&bigger[0], &storage_[read_index_], readable);
    storage_.swap(bigger);
  }
  read_index_ = 0;
  write_index_ = readable;
}

size_t Buffer::FillDiversion(absl::string_view bytes) {
  const size_t take = std::min(bytes.size(), divert_total_ - divert_filled_);
  if (take == 0) return 0;
  GrowDiversion(take);
  std::memcpy(&diverted_[divert_filled_], bytes.data(), take);
  divert_filled_ += take;
  return take;
}

void Buffer::GrowDiversion(size_t n) {
  // Within the capacity reserved up front: no reallocation, and pages are touched (committed)
  // only as the bytes for them arrive.
  diverted_.resize(std::max(diverted_.size(), std::min(divert_total_, divert_filled_ + n)));
}

void Buffer::BeginDivert(size_t total) {
  diverting_ = true;
  diverted_.clear();
  diverted_.reserve(total);
  divert_total_ = total;
  divert_filled_ = 0;
  const size_t moved = FillDiversion(view());
  Consume(moved);
}

std::string Buffer::TakeDiverted() {
  std::string out;
  out.swap(diverted_);
  diverting_ = false;
  divert_filled_ = 0;
  divert_total_ = 0;
  return out;
}

ssize_t Buffer::ReadFd(int fd, size_t max_bytes, int* saved_errno) {
  if (diverting_ && divert_filled_ < divert_total_) {
    // The rest of the diversion in place, and a little beyond it into the buffer.
    EnsureWritable(kDivertTailBytes);
    GrowDiversion(max_bytes);
    iovec vec[2];
    vec[0].iov_base = &diverted_[divert_filled_];
    vec[0].iov_len = diverted_.size() - divert_filled_;
    vec[1].iov_base = &storage_[write_index_];
    vec[1].iov_len = kDivertTailBytes;
    // Beyond the diversion only if this read can complete it (readv fills vec[0] first).
    const bool completes = divert_filled_ + vec[0].iov_len == divert_total_;
    const ssize_t n = ::readv(fd, vec, completes ? 2 : 1);
    if (n < 0) {
      *saved_errno = errno;
      return n;
    }
    const size_t into_diversion = std::min(static_cast<size_t>(n), vec[0].iov_len);
    divert_filled_ += into_diversion;
    write_index_ += static_cast<size_t>(n) - into_diversion;
    return n;
  }
  char spill[65536];
  const size_t writable = storage_.size() - write_index_;
  iovec vec[2];
  vec[0].iov_base = storage_.empty() ? spill : &storage_[write_index_];
  vec[0].iov_len = std::min(writable, max_bytes);
  vec[1].iov_base = spill;
  vec[1].iov_len = std::min(sizeof(spill), max_bytes - vec[0].iov_len);
  const int count = (storage_.empty() || vec[1].iov_len == 0) ? 1 : 2;
  if (storage_.empty()) vec[0].iov_len = std::min(sizeof(spill), max_bytes);
  const ssize_t n = ::readv(fd, vec, count);
  if (n < 0) {
    *saved_errno = errno;
    return n;
  }
  if (storage_.empty()) {
    Append(absl::string_view(spill, static_cast<size_t>(n)));
  } else if (static_cast<size_t>(n) <= vec[0].iov_len) {
    write_index_ += static_cast<size_t>(n);
  } else {
    write_index_ += vec[0].iov_len;
    Append(absl::string_view(spill, static_cast<size_t>(n) - vec[0].iov_len));
  }
  return n;
}

}  // namespace framerpc

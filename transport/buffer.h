// A growable byte buffer for socket input: bytes are appended at the back and consumed from the
// front. Not thread-safe; each buffer belongs to one connection on one loop thread.
#ifndef FRAMERPC_TRANSPORT_BUFFER_H_
#define FRAMERPC_TRANSPORT_BUFFER_H_

#include <sys/types.h>

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace framerpc {

class Buffer {
 public:
  Buffer() = default;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  size_t readable_bytes() const { return write_index_ - read_index_; }
  absl::string_view view() const {
    return absl::string_view(storage_.data() + read_index_, readable_bytes());
  }
  void Consume(size_t n);
  void Append(absl::string_view bytes);
  // Makes room for at least `n` more bytes without reallocating on the next Append/ReadFd.
  void Reserve(size_t n);

  // Reads what `fd` has, up to `max_bytes`, using readv with a stack spill area so one call can
  // take a large burst without growing the buffer first. Returns read(2)'s result; on error,
  // *saved_errno is set.
  ssize_t ReadFd(int fd, size_t max_bytes, int* saved_errno);

 private:
  void EnsureWritable(size_t n);

  std::string storage_;
  size_t read_index_ = 0;
  size_t write_index_ = 0;
};

}  // namespace framerpc

#endif  // FRAMERPC_TRANSPORT_BUFFER_H_

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
  // Frees the storage if nothing is readable and no diversion is open (an idle connection's
  // buffer); the next input allocates it again. Returns whether it freed it.
  bool ReleaseIfEmpty();
  // Bytes of storage held (for tests of the idle release).
  size_t capacity() const { return storage_.size(); }

  // Reads what `fd` has, up to `max_bytes`, using readv with a stack spill area so one call can
  // take a large burst without growing the buffer first. Returns read(2)'s result; on error,
  // *saved_errno is set.
  ssize_t ReadFd(int fd, size_t max_bytes, int* saved_errno);

  // Room for the next input when something other than ReadFd writes it (a TLS record layer
  // decrypting in place): at least min(`want`, what is left of an open diversion) bytes, in the
  // open diversion if there is one, else in the buffer. CommitWrite(n) then takes the first `n`
  // bytes written there as input. No other call may come in between.
  char* BeginWrite(size_t want, size_t* room);
  void CommitWrite(size_t n);

  // Diversion: the next input goes into a string of its own, of exactly `total` bytes, instead of
  // the buffer, so that a large frame body is read from the socket straight into the string that
  // will carry it rather than copied out of the buffer. The bytes readable now (which must be at
  // most `total`: the start of that body) move into it first. While a diversion is open, ReadFd
  // reads the rest of it plus at most kDivertTailBytes beyond (typically the next frame's header
  // and envelope) into the buffer, and Append fills it first.
  static constexpr size_t kDivertTailBytes = 4096;
  void BeginDivert(size_t total);
  bool diverting() const { return diverting_; }
  bool divert_complete() const { return diverting_ && divert_filled_ == divert_total_; }
  // Ends the diversion, which must be complete, and hands over its bytes.
  std::string TakeDiverted();
  // Bytes of the diversion's storage written so far (received, or zeroed just ahead of a read):
  // what it has committed, for tests of the memory bound.
  size_t diversion_bytes_touched() const { return diverted_.size(); }

 private:
  void EnsureWritable(size_t n);
  // Moves up to `bytes.size()` bytes into an open diversion; returns how many it took.
  size_t FillDiversion(absl::string_view bytes);
  // Makes room for up to `n` more diverted bytes (never beyond the total).
  void GrowDiversion(size_t n);

  bool writing_diversion_ = false;  // between BeginWrite and CommitWrite
  std::string storage_;
  size_t read_index_ = 0;
  size_t write_index_ = 0;
  bool diverting_ = false;
  // Capacity reserved for the whole diversion; its size grows just ahead of the bytes read, so
  // that memory is committed as they arrive, not when a peer announces a body.
  std::string diverted_;
  size_t divert_total_ = 0;
  size_t divert_filled_ = 0;
};

}  // namespace framerpc

#endif  // FRAMERPC_TRANSPORT_BUFFER_H_

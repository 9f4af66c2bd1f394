// DirectWriter: appends a stream of bytes to a file, through O_DIRECT where the filesystem allows
// it. An upload writes a new file that nobody reads until it is committed; through the page cache
// that costs a copy into freshly allocated pages and then the fsync's write-back, and on this
// project's VM (docs/file_service.md) 1 GiB took 2 s that way against 0.4 s written directly.
//
// Bytes are staged in one of two aligned buffers. A full buffer goes to a writer thread of the
// DirectWriter's own, which writes it (a blocking device transfer) while the caller fills the
// other: the caller's work per byte (hashing, for an upload) overlaps the disk's. Finish() writes
// the last, partial buffer through the page cache (O_DIRECT cleared), so the file ends exactly
// where the data does. Where O_DIRECT is refused (some filesystems refuse it), or a direct write
// fails with EINVAL (a device with larger blocks), the writer writes through the page cache from
// then on; the content is the same either way. Durability is still the caller's fsync.
//
// Ownership: the fd belongs to the caller and must outlive the writer; the writer changes its
// O_DIRECT flag, and no one else may write to the fd until Finish() returns or the writer is
// destroyed. Thread safety: none; one owner at a time (the writer thread is internal).
#ifndef FRAMERPC_SERVICES_FILE_DIRECT_WRITER_H_
#define FRAMERPC_SERVICES_FILE_DIRECT_WRITER_H_

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace framerpc::file {

class DirectWriter {
 public:
  // O_DIRECT's alignment for buffers, offsets and lengths (the page size covers 512-byte and
  // 4 KiB logical blocks).
  static constexpr size_t kAlignment = 4096;
  // The largest staging buffer, and so the size of each direct write. Two are allocated.
  static constexpr size_t kMaxBufferBytes = 1 << 20;
  // Files smaller than this are written through the page cache, on the caller's thread: a direct
  // write's device round trip and a thread buy nothing for them.
  static constexpr uint64_t kMinDirectBytes = 256 << 10;

  // `fd`: open for writing, positioned at offset 0. `expected_bytes` sizes the staging buffers
  // (at most kMaxBufferBytes each) and decides whether to go direct at all. `shown_path` names
  // the file in error messages.
  DirectWriter(int fd, uint64_t expected_bytes, std::string shown_path);
  // Waits for a write in progress and clears O_DIRECT; the file's content is then whatever was
  // written.
  ~DirectWriter();
  DirectWriter(const DirectWriter&) = delete;
  DirectWriter& operator=(const DirectWriter&) = delete;

  // Appends `data`. Errors (a full disk, an I/O error) are file-service statuses naming the file;
  // one from a buffer written in the background is returned by the Append that next fills a
  // buffer, or by Finish (so up to one more buffer may be accepted first; Finish always reports
  // it).
  // After an error the file's content is undefined and the writer must not be used again.
  absl::Status Append(absl::string_view data);
  // Waits for the background write, writes what is still staged, and clears O_DIRECT. Call once,
  // after the last Append.
  absl::Status Finish();

  // Whether O_DIRECT is in use (true from construction until Finish, unless it was refused).
  bool direct() const { return direct_.load(std::memory_order_relaxed); }

 private:
  struct FreeDeleter {
    void operator()(char* p) const { std::free(p); }
  };
  using AlignedBuffer = std::unique_ptr<char, FreeDeleter>;

  // Writes `size` bytes at the file position: O_DIRECT for a whole buffer, the page cache for
  // anything else or after an EINVAL. Called by one thread at a time (the writer thread while it
  // runs, then the owner).
  absl::Status WriteBlock(const char* data, size_t size);
  // Leaves O_DIRECT for the rest of the file.
  void StopDirect();
  // Hands the full filling_ buffer to the writer thread and takes the other one, once the
  // writer thread has finished with it.
  absl::Status Submit();
  // Waits until the writer thread is idle; returns its first error.
  absl::Status WaitIdle();
  void WriterLoop();
  void StopWriter();

  const int fd_;
  const std::string shown_path_;
  std::atomic<bool> direct_{false};  // changed only by the thread that writes (see WriteBlock)
  size_t capacity_ = 0;
  AlignedBuffer filling_;  // owner's thread: the buffer being filled
  size_t staged_ = 0;
  AlignedBuffer spare_;  // guarded by mu_: the buffer the writer thread holds or has returned

  std::mutex mu_;
  std::condition_variable cv_;
  bool writing_ = false;  // guarded by mu_: spare_ holds a full buffer for the writer thread
  bool stop_ = false;     // guarded by mu_
  absl::Status error_;    // guarded by mu_: the writer thread's first error
  std::thread writer_;
};

}  // namespace framerpc::file

#endif  // FRAMERPC_SERVICES_FILE_DIRECT_WRITER_H_

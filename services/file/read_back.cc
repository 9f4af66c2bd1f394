#include "services/file/read_back.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "services/file/client_path.h"
#include "services/file/direct_writer.h"
#include "services/file/errno_status.h"
#include "services/file/file_io.h"

namespace framerpc::file {
namespace {

struct FreeDeleter {
  void operator()(char* p) const { std::free(p); }
};

absl::Status Changed(absl::string_view shown_path) {
  return absl::DataLossError(
      absl::StrCat(QuotePath(shown_path),
                   " changed while it was staged (its size or content is not what was "
                   "sent); nothing was written"));
}

absl::Status Cancelled() {
  return absl::CancelledError("the upload was cancelled; nothing was written");
}

absl::Status CheckSize(int fd, uint64_t size, absl::string_view shown_path) {
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    return FileErrnoToStatus(errno, absl::StrCat("cannot stat ", QuotePath(shown_path)));
  }
  return static_cast<uint64_t>(st.st_size) == size ? absl::OkStatus() : Changed(shown_path);
}

// Sets or clears O_DIRECT on `fd`; false if the filesystem refuses it.
bool SetDirect(int fd, bool on) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) return false;
  return ::fcntl(fd, F_SETFL, on ? flags | O_DIRECT : flags & ~O_DIRECT) == 0;
}

using AlignedBuffer = std::unique_ptr<char, FreeDeleter>;

AlignedBuffer NewAligned(size_t size) {
  return AlignedBuffer(static_cast<char*>(std::aligned_alloc(DirectWriter::kAlignment, size)));
}

// Reads whole blocks of the file, each on a thread of its own while the caller hashes the block
// before: the device transfer overlaps the hashing. One read is in flight at a time; the caller
// starts it (Start) and collects it (Wait), and touches neither the fd nor the buffer meanwhile.
class ReadAhead {
 public:
  ReadAhead(int fd, absl::string_view shown_path, bool direct)
      : fd_(fd), shown_path_(shown_path), direct_(direct), thread_([this] { Loop(); }) {}
  ~ReadAhead() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
    if (direct_) SetDirect(fd_, false);
  }
  ReadAhead(const ReadAhead&) = delete;
  ReadAhead& operator=(const ReadAhead&) = delete;

  // Reads up to `capacity` bytes at `offset` (a multiple of the alignment) into `buffer`.
  void Start(char* buffer, size_t capacity, uint64_t offset) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      request_ = Request{buffer, capacity, offset};
      pending_ = true;
    }
    cv_.notify_all();
  }

  // The number of bytes the read started last got (0 at the end of the file), or its error.
  absl::StatusOr<size_t> Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return !pending_; });
    return std::move(result_);
  }

 private:
  struct Request {
    char* buffer = nullptr;
    size_t capacity = 0;
    uint64_t offset = 0;
  };

  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      cv_.wait(lock, [this] { return pending_ || stop_; });
      if (!pending_) return;
      const Request request = request_;
      lock.unlock();
      absl::StatusOr<size_t> result = Read(request);
      lock.lock();
      result_ = std::move(result);
      pending_ = false;
      cv_.notify_all();
    }
  }

  // A direct read asks for a whole block, aligned; the file's end makes it short.
  absl::StatusOr<size_t> Read(const Request& request) {
    for (;;) {
      const ssize_t n =
          ::pread(fd_, request.buffer, request.capacity, static_cast<off_t>(request.offset));
      if (n >= 0) return static_cast<size_t>(n);
      const int err = errno;
      if (err == EINTR) continue;
      // The device wants a larger alignment: read on through the page cache.
      if (err == EINVAL && direct_ && SetDirect(fd_, false)) {
        direct_ = false;
        continue;
      }
      return FileErrnoToStatus(err, absl::StrCat("cannot read back ", QuotePath(shown_path_)));
    }
  }

  const int fd_;
  const absl::string_view shown_path_;
  bool direct_;  // the reader thread's while a read is in flight, else the owner's

  std::mutex mu_;
  std::condition_variable cv_;
  Request request_;                    // guarded by mu_
  bool pending_ = false;               // guarded by mu_: request_ not yet served
  bool stop_ = false;                  // guarded by mu_
  absl::StatusOr<size_t> result_ = 0;  // guarded by mu_
  std::thread thread_;
};

// A small file (written through the page cache, and cached there): one buffered pass.
absl::StatusOr<std::string> HashCached(int fd, uint64_t size, HashAlgorithm algorithm,
                                       absl::string_view shown_path,
                                       const std::function<bool()>& stop) {
  Hasher hasher(algorithm);
  std::string buffer(static_cast<size_t>(std::max<uint64_t>(size, 1)), '\0');
  absl::StatusOr<uint64_t> hashed = HashRange(fd, 0, size, &hasher, &buffer, shown_path, stop);
  if (!hashed.ok()) return absl::IsCancelled(hashed.status()) ? Cancelled() : hashed.status();
  if (*hashed != size) return Changed(shown_path);
  return hasher.Finish();
}

// A large one (written with O_DIRECT): whole aligned blocks, each read while the last is hashed.
absl::StatusOr<std::string> HashWhileReading(int fd, uint64_t size, HashAlgorithm algorithm,
                                             absl::string_view shown_path,
                                             const std::function<bool()>& stop) {
  const uint64_t rounded =
      (size + DirectWriter::kAlignment - 1) / DirectWriter::kAlignment * DirectWriter::kAlignment;
  const size_t capacity = static_cast<size_t>(
      std::clamp<uint64_t>(rounded, DirectWriter::kAlignment, DirectWriter::kMaxBufferBytes));
  AlignedBuffer reading = NewAligned(capacity);
  AlignedBuffer hashing = NewAligned(capacity);
  if (reading == nullptr || hashing == nullptr) {
    return absl::ResourceExhaustedError("no memory to verify an upload");
  }
  ReadAhead reader(fd, shown_path, SetDirect(fd, true));
  Hasher hasher(algorithm);
  uint64_t done = 0;
  reader.Start(reading.get(), capacity, 0);
  while (done < size) {
    absl::StatusOr<size_t> got = reader.Wait();
    if (!got.ok()) return got.status();
    if (*got == 0) return Changed(shown_path);  // shorter than written
    const size_t n = static_cast<size_t>(std::min<uint64_t>(*got, size - done));
    std::swap(reading, hashing);
    if (done + n < size) reader.Start(reading.get(), capacity, done + n);
    if (stop && stop()) return Cancelled();  // (~ReadAhead waits for the read in flight)
    hasher.Update(absl::string_view(hashing.get(), n));
    done += n;
  }
  return hasher.Finish();
}

}  // namespace

absl::StatusOr<std::string> ReadBackDigest(int fd, uint64_t size, HashAlgorithm algorithm,
                                           absl::string_view shown_path,
                                           const std::function<bool()>& stop) {
  absl::Status status = CheckSize(fd, size, shown_path);
  if (!status.ok()) return status;
  absl::StatusOr<std::string> digest =
      size < DirectWriter::kMinDirectBytes
          ? HashCached(fd, size, algorithm, shown_path, stop)
          : HashWhileReading(fd, size, algorithm, shown_path, stop);
  if (!digest.ok()) return digest.status();
  status = CheckSize(fd, size, shown_path);
  if (!status.ok()) return status;
  return digest;
}

}  // namespace framerpc::file

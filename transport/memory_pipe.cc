#include "transport/memory_pipe.h"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <string>

#include "absl/strings/str_cat.h"

namespace framerpc {
namespace {

// The bytes travelling towards one end.
struct Direction {
  std::string bytes;
  size_t read_offset = 0;      // bytes before it have been read
  bool write_closed = false;   // the writer has said it sends no more
  bool reader_gone = false;    // the reading end has closed: writes fail
  bool signalled = false;      // the reader's eventfd counter is non-zero

  size_t unread() const { return bytes.size() - read_offset; }
  bool readable() const { return unread() > 0 || write_closed; }
};

// Both ends' state. towards[i] holds what end i reads; readiness[i] is end i's eventfd.
struct PipeState {
  std::mutex mu;
  Direction towards[2];  // guarded by mu
  ScopedFd readiness[2];

  // Requires mu. Keeps end `i`'s eventfd readable exactly while it has something to read or the
  // end to report: level-triggered epoll then wakes its loop neither too little nor forever.
  void SyncReadiness(int i) {
    Direction& d = towards[i];
    if (d.readable() == d.signalled) return;
    uint64_t value = 1;
    if (d.readable()) {
      ssize_t n = ::write(readiness[i].get(), &value, sizeof value);
      (void)n;  // an eventfd takes a write of 1 unless its counter is near 2^64
    } else {
      ssize_t n = ::read(readiness[i].get(), &value, sizeof value);  // resets the counter
      (void)n;
    }
    d.signalled = d.readable();
  }
};

RecordIo Outcome(RecordIo::Kind kind, size_t bytes = 0, absl::Status error = absl::OkStatus()) {
  RecordIo io;
  io.kind = kind;
  io.bytes = bytes;
  io.error = std::move(error);
  return io;
}

class MemoryPipeLayer final : public RecordLayer {
 public:
  MemoryPipeLayer(std::shared_ptr<PipeState> state, int side)
      : state_(std::move(state)), side_(side) {}
  ~MemoryPipeLayer() override { Close(); }
  MemoryPipeLayer(const MemoryPipeLayer&) = delete;
  MemoryPipeLayer& operator=(const MemoryPipeLayer&) = delete;

  RecordIo Read(char* data, size_t size) override {
    std::lock_guard<std::mutex> lock(state_->mu);
    Direction& in = state_->towards[side_];
    if (in.unread() == 0) {
      return Outcome(in.write_closed ? RecordIo::Kind::kClosed : RecordIo::Kind::kWantRead);
    }
    const size_t n = std::min(size, in.unread());
    std::memcpy(data, in.bytes.data() + in.read_offset, n);
    in.read_offset += n;
    if (in.unread() == 0) {
      in.bytes.clear();
      in.read_offset = 0;
    } else if (in.read_offset > (1u << 20) && in.read_offset > in.bytes.size() / 2) {
      in.bytes.erase(0, in.read_offset);  // a reader far behind does not keep what it read
      in.read_offset = 0;
    }
    state_->SyncReadiness(side_);
    return Outcome(RecordIo::Kind::kOk, n);
  }

  RecordIo Write(const char* data, size_t size) override {
    std::lock_guard<std::mutex> lock(state_->mu);
    Direction& out = state_->towards[1 - side_];
    if (out.reader_gone || out.write_closed) {
      return Outcome(RecordIo::Kind::kError, 0,
                     absl::UnavailableError(out.reader_gone
                                                ? "the in-process peer closed the connection"
                                                : "write after this end was shut down"));
    }
    out.bytes.append(data, size);
    state_->SyncReadiness(1 - side_);
    return Outcome(RecordIo::Kind::kOk, size);
  }

  bool HasBufferedInput() const override {
    std::lock_guard<std::mutex> lock(state_->mu);
    return state_->towards[side_].unread() > 0;
  }

  void SendCloseNotify() override {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->towards[1 - side_].write_closed = true;
    state_->SyncReadiness(1 - side_);
  }

  bool OwnsTransport() const override { return true; }

  void Close() override {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->towards[1 - side_].write_closed = true;
    state_->SyncReadiness(1 - side_);
    Direction& in = state_->towards[side_];
    in.reader_gone = true;
    std::string().swap(in.bytes);  // never read now
    in.read_offset = 0;
  }

 private:
  const std::shared_ptr<PipeState> state_;
  const int side_;
};

absl::StatusOr<ScopedFd> NewEventFd() {
  ScopedFd fd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!fd.valid()) return absl::UnavailableError(absl::StrCat("eventfd: ", std::strerror(errno)));
  return fd;
}

}  // namespace

absl::StatusOr<std::pair<MemoryPipeEnd, MemoryPipeEnd>> NewMemoryPipe() {
  auto state = std::make_shared<PipeState>();
  MemoryPipeEnd ends[2];
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<ScopedFd> fd = NewEventFd();
    if (!fd.ok()) return fd.status();
    state->readiness[i] = *std::move(fd);
    // The Connection closes its own descriptor when it closes; the pipe's stays open until both
    // ends are gone, so the peer never signals a number that was closed and reused meanwhile.
    ScopedFd dup(::fcntl(state->readiness[i].get(), F_DUPFD_CLOEXEC, 0));
    if (!dup.valid()) return absl::UnavailableError(absl::StrCat("dup: ", std::strerror(errno)));
    ends[i].readiness = std::move(dup);
  }
  for (int i = 0; i < 2; ++i) ends[i].layer = std::make_unique<MemoryPipeLayer>(state, i);
  return std::make_pair(std::move(ends[0]), std::move(ends[1]));
}

}  // namespace framerpc

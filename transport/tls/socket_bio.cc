#include "transport/tls/socket_bio.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

namespace framerpc {
namespace {

struct State {
  int fd;
  bool corked = false;
  int flags = MSG_NOSIGNAL;  // | MSG_DONTWAIT under SocketBioSetDontWait
  std::string gathered;      // records not yet sent, from `sent` on
  size_t sent = 0;
  // Received and not yet handed to OpenSSL: input[in_begin, in_end), in an allocation of
  // input_capacity bytes (socket_bio.h says when it is made and freed).
  std::unique_ptr<char[]> input;
  size_t input_capacity = 0;
  size_t in_begin = 0;
  size_t in_end = 0;
  bool last_recv_small = false;
};

State* Of(BIO* bio) { return static_cast<State*>(BIO_get_data(bio)); }

// Four full TLS records and their overhead.
constexpr size_t kGatherReserveBytes = 4 * (16384 + 256);
constexpr size_t kFullRecordBytes = 16384;

bool Retryable(int err) { return err == EAGAIN || err == EWOULDBLOCK || err == EINTR; }

// 1: everything gathered is sent; 0: the socket is full; -1: an error (errno).
int SendGathered(State* state) {
  while (state->sent < state->gathered.size()) {
    const ssize_t n = ::send(state->fd, state->gathered.data() + state->sent,
                             state->gathered.size() - state->sent, state->flags);
    if (n < 0) return Retryable(errno) ? 0 : -1;
    state->sent += static_cast<size_t>(n);
  }
  // An idle connection keeps no gathered capacity (up to kMaxGatherBytes).
  if (state->gathered.capacity() > 16 * 1024) {
    std::string().swap(state->gathered);
  } else {
    state->gathered.clear();
  }
  state->sent = 0;
  return 1;
}

int Write(BIO* bio, const char* data, int size) {
  BIO_clear_retry_flags(bio);
  State* state = Of(bio);
  const size_t bytes = static_cast<size_t>(size);
  const size_t unsent = state->gathered.size() - state->sent;
  if (!state->corked || unsent + bytes > kMaxGatherBytes) {
    // Gathered records go first, always.
    const int flushed = SendGathered(state);
    if (flushed <= 0) {
      if (flushed == 0) BIO_set_retry_write(bio);
      return -1;
    }
  }
  if (state->corked && bytes <= kMaxGatherBytes) {
    // A batch that starts with a full record, or grows past its first, gets room for several
    // full ones at once, so that gathering does not copy what it gathered again at each doubling
    // (measured: 3.7% of the 4 KiB in-flight TLS profile). Released again once sent
    // (SendGathered); a batch of one small record keeps its small string.
    const size_t needed = state->gathered.size() + bytes;
    if (needed > state->gathered.capacity() &&
        (!state->gathered.empty() || bytes >= kFullRecordBytes)) {
      state->gathered.reserve(std::max(needed, kGatherReserveBytes));
    }
    state->gathered.append(data, bytes);
    return size;
  }
  const ssize_t n = ::send(state->fd, data, bytes, state->flags);
  if (n < 0 && Retryable(errno)) BIO_set_retry_write(bio);
  return static_cast<int>(n);
}

// A recv that brings at most one record's worth is taken for the end of a spell (a call's reply,
// or a stream's last bytes): the input it leaves is freed once drained, except a small buffer
// for calls' replies, kept for the next (no allocation per call).
constexpr size_t kSmallRecvBytes = 16 * 1024;
constexpr size_t kKeptInputBytes = 1024;

// One recv(2) of up to kSocketBioInputBytes: > 0 bytes (now the input), 0 at EOF, < 0 on error
// (errno). Into the 64 KiB buffer when one is held (a bulk spell); otherwise through a spill on
// the stack, then kept in the buffer held if it fits, else in a new one: kKeptInputBytes, the
// bytes' own size up to a record's worth (no 64 KiB allocated and faulted in per call), or 64 KiB.
ssize_t Refill(State* state) {
  const int flags = state->flags & MSG_DONTWAIT;
  ssize_t n;
  if (state->input_capacity == kSocketBioInputBytes) {
    n = ::recv(state->fd, state->input.get(), kSocketBioInputBytes, flags);
  } else {
    char spill[kSocketBioInputBytes];
    n = ::recv(state->fd, spill, sizeof spill, flags);
    if (n > 0) {
      const size_t size = static_cast<size_t>(n);
      if (size > state->input_capacity) {
        state->input_capacity = size > kSmallRecvBytes   ? kSocketBioInputBytes
                                : size > kKeptInputBytes ? size
                                                         : kKeptInputBytes;
        state->input.reset(new char[state->input_capacity]);  // uninitialised: written at once
      }
      std::memcpy(state->input.get(), spill, size);
    }
  }
  state->in_begin = 0;
  state->in_end = n > 0 ? static_cast<size_t>(n) : 0;
  state->last_recv_small = n <= static_cast<ssize_t>(kSmallRecvBytes);
  return n;
}

void FreeInput(State* state) {
  state->input.reset();
  state->input_capacity = 0;
}

int Read(BIO* bio, char* data, int size) {
  BIO_clear_retry_flags(bio);
  State* state = Of(bio);
  if (state->in_begin == state->in_end) {
    const ssize_t n = Refill(state);
    if (n <= 0) {
      // Nothing now (a bulk reader keeps its buffer: it has caught up with the writer, who
      // goes on), or the end.
      if (n < 0 && Retryable(errno)) {
        BIO_set_retry_read(bio);
      } else {
        FreeInput(state);
      }
      return static_cast<int>(n);
    }
  }
  const size_t take = std::min(static_cast<size_t>(size), state->in_end - state->in_begin);
  std::memcpy(data, state->input.get() + state->in_begin, take);
  state->in_begin += take;
  if (state->in_begin == state->in_end) {
    state->in_begin = state->in_end = 0;
    if (state->last_recv_small && state->input_capacity != kKeptInputBytes) FreeInput(state);
  }
  return static_cast<int>(take);
}

long Ctrl(BIO* bio, int cmd, long, void*) {
  if (cmd != BIO_CTRL_FLUSH) return 0;
  State* state = Of(bio);
  return state->corked ? 1 : SendGathered(state) == 1 ? 1 : 0;
}

int Create(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

int Destroy(BIO* bio) {
  delete Of(bio);
  BIO_set_data(bio, nullptr);
  return 1;
}

const BIO_METHOD* Method() {
  // Made once, never freed (OpenSSL's own methods are static too).
  static const BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "framerpc socket");
    BIO_meth_set_write(m, Write);
    BIO_meth_set_read(m, Read);
    BIO_meth_set_ctrl(m, Ctrl);
    BIO_meth_set_create(m, Create);
    BIO_meth_set_destroy(m, Destroy);
    return m;
  }();
  return method;
}

}  // namespace

BIO* NewNoSigpipeSocketBio(int fd) {
  BIO* bio = BIO_new(Method());
  if (bio != nullptr) {
    auto* state = new State;
    state->fd = fd;
    BIO_set_data(bio, state);
  }
  return bio;
}

void SocketBioCork(BIO* bio) { Of(bio)->corked = true; }

int SocketBioUncork(BIO* bio) {
  State* state = Of(bio);
  state->corked = false;
  return SendGathered(state);
}

void SocketBioSetDontWait(BIO* bio, bool on) {
  State* state = Of(bio);
  state->flags = on ? (MSG_NOSIGNAL | MSG_DONTWAIT) : MSG_NOSIGNAL;
}

void SocketBioReleaseIdle(BIO* bio) {
  State* state = Of(bio);
  if (state->in_begin == state->in_end) FreeInput(state);
  if (state->sent == state->gathered.size()) {
    std::string().swap(state->gathered);
    state->sent = 0;
  }
}

bool SocketBioHasInput(BIO* bio) {
  const State* state = Of(bio);
  return state->in_begin < state->in_end;
}

size_t SocketBioBytesHeld(BIO* bio) {
  const State* state = Of(bio);
  const size_t gathered = state->gathered.capacity() > std::string().capacity()
                              ? state->gathered.capacity()
                              : 0;  // the string's inline room is no allocation
  return state->input_capacity + gathered;
}

bool SocketBioHasUnsent(BIO* bio) {
  const State* state = Of(bio);
  return state->sent < state->gathered.size();
}

}  // namespace framerpc

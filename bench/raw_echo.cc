#include "bench/raw_echo.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/scoped_fd.h"
#include "transport/socket_address.h"
#include "transport/socket_ops.h"

namespace framerpc::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kHeaderBytes = 16;
constexpr char kRawMagic[4] = {'R', 'A', 'W', 'E'};
// Per-socket buffers for the pipelined run: the blocking client writes while it holds unread
// echoes, so each direction must hold every message in flight (inflight * message bytes) or the
// two ends could block on each other's full buffers.
constexpr int kPipelinedSocketBuffer = 4 << 20;

uint32_t BodyLength(const char* header) {
  const auto* u = reinterpret_cast<const unsigned char*>(header + 8);
  return (uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | uint32_t{u[3]};
}

std::string MakeMessage(size_t payload_bytes) {
  std::string message(kHeaderBytes + payload_bytes, '\0');
  std::memcpy(&message[0], kRawMagic, sizeof(kRawMagic));
  const auto body = static_cast<uint32_t>(payload_bytes);
  message[8] = static_cast<char>(body >> 24);
  message[9] = static_cast<char>(body >> 16);
  message[10] = static_cast<char>(body >> 8);
  message[11] = static_cast<char>(body);
  for (size_t i = 0; i < payload_bytes; ++i) {
    message[kHeaderBytes + i] = static_cast<char>('a' + i % 26);
  }
  return message;
}

absl::Status ErrnoError(absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

absl::Status WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("raw write");
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

// One read of at most `capacity` bytes that waits as `wait` says: > 0 bytes, 0 at end of stream,
// < 0 on an error (errno set).
ssize_t ReadWaiting(int fd, char* data, size_t capacity, RawWait wait) {
  const int flags = wait == RawWait::kSpin ? MSG_DONTWAIT : 0;
  for (;;) {
    const ssize_t n = ::recv(fd, data, capacity, flags);
    if (n >= 0) return n;
    if (errno == EINTR || (wait == RawWait::kSpin && (errno == EAGAIN || errno == EWOULDBLOCK))) {
      continue;
    }
    return n;
  }
}

// Reads at most `capacity` bytes; 0 means the peer closed, which is an error for a client.
absl::StatusOr<size_t> ReadSome(int fd, char* data, size_t capacity, RawWait wait) {
  const ssize_t n = ReadWaiting(fd, data, capacity, wait);
  if (n > 0) return static_cast<size_t>(n);
  if (n == 0) return absl::UnavailableError("raw echo server closed the connection");
  return ErrnoError("raw read");
}

// Length of the longest prefix of `data` made of whole messages, and how many there are.
// `*next_bytes` is set to the size of the first incomplete message when its header is in.
size_t CompleteMessages(const char* data, size_t size, size_t* count, size_t* next_bytes) {
  size_t offset = 0;
  *count = 0;
  *next_bytes = kHeaderBytes;
  while (size - offset >= kHeaderBytes) {
    const size_t message = kHeaderBytes + BodyLength(data + offset);
    if (size - offset < message) {
      *next_bytes = message;
      break;
    }
    offset += message;
    ++*count;
  }
  return offset;
}

// The raw echo server for one connection: until the client closes, reads what is there and
// writes back every complete message with one write.
void ServeEcho(int fd, RawWait wait) {
  std::vector<char> buffer(256 << 10);
  size_t have = 0;
  for (;;) {
    const ssize_t n = ReadWaiting(fd, buffer.data() + have, buffer.size() - have, wait);
    if (n <= 0) return;
    have += static_cast<size_t>(n);
    size_t count = 0;
    size_t next_bytes = 0;
    const size_t complete = CompleteMessages(buffer.data(), have, &count, &next_bytes);
    if (complete > 0) {
      if (!WriteAll(fd, buffer.data(), complete).ok()) return;
      std::memmove(buffer.data(), buffer.data() + complete, have - complete);
      have -= complete;
    }
    if (next_bytes > buffer.size()) buffer.resize(next_bytes);
  }
}

struct SocketPair {
  ScopedFd client;
  ScopedFd server;
};

// `n` connected pairs of blocking TCP sockets over 127.0.0.1, TCP_NODELAY on both ends.
absl::StatusOr<std::vector<SocketPair>> ConnectPairs(int n, int socket_buffer_bytes) {
  absl::StatusOr<SocketAddress> any = SocketAddress::Parse("127.0.0.1:0");
  if (!any.ok()) return any.status();
  absl::StatusOr<ScopedFd> listener = Listen(*any, n + 1);
  if (!listener.ok()) return listener.status();
  const int flags = ::fcntl(listener->get(), F_GETFL);
  if (flags < 0 || ::fcntl(listener->get(), F_SETFL, flags & ~O_NONBLOCK) != 0) {
    return ErrnoError("fcntl");
  }
  const SocketAddress bound = LocalAddress(listener->get());
  std::vector<SocketPair> pairs;
  for (int i = 0; i < n; ++i) {
    absl::StatusOr<ScopedFd> client = ConnectBlocking(bound);
    if (!client.ok()) return client.status();
    ScopedFd server(::accept4(listener->get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!server.valid()) return ErrnoError("accept4");
    SetNoDelay(server.get(), bound.family());
    if (socket_buffer_bytes > 0) {
      for (int fd : {client->get(), server.get()}) {
        ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &socket_buffer_bytes, sizeof(int));
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &socket_buffer_bytes, sizeof(int));
      }
    }
    pairs.push_back(SocketPair{*std::move(client), std::move(server)});
  }
  return pairs;
}

int64_t Nanos(Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

// Runs one echo server thread per pair, calls `client(i, fd)` on one thread per pair, then closes
// the clients' write sides so that the servers finish, and joins everything. Returns the first
// client error.
template <typename ClientFn>
absl::Status RunPairs(std::vector<SocketPair>& pairs, RawWait wait, ClientFn client) {
  std::vector<std::thread> servers;
  for (SocketPair& pair : pairs) servers.emplace_back(ServeEcho, pair.server.get(), wait);
  std::mutex mu;
  absl::Status first_error;
  std::vector<std::thread> clients;
  for (size_t i = 0; i < pairs.size(); ++i) {
    clients.emplace_back([&, i] {
      absl::Status status = client(i, pairs[i].client.get());
      ::shutdown(pairs[i].client.get(), SHUT_WR);
      if (!status.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        if (first_error.ok()) first_error = std::move(status);
      }
    });
  }
  for (std::thread& t : clients) t.join();
  for (std::thread& t : servers) t.join();
  return first_error;
}

// One pipelined client connection: keeps `inflight` messages outstanding until `deadline`, then
// drains. Echoes that arrive before the deadline are measured.
absl::Status PipelinedClient(int fd, const std::string& message, int inflight,
                             Clock::time_point deadline, RawWait wait,
                             std::vector<int64_t>* latencies) {
  std::string burst;
  for (int i = 0; i < inflight; ++i) burst += message;
  // Send times in a ring, oldest first: TCP and the server keep the order.
  std::vector<Clock::time_point> sent(static_cast<size_t>(inflight));
  size_t oldest = 0;
  size_t outstanding = static_cast<size_t>(inflight);
  const Clock::time_point start = Clock::now();
  std::fill(sent.begin(), sent.end(), start);
  absl::Status status = WriteAll(fd, burst.data(), burst.size());
  if (!status.ok()) return status;
  std::vector<char> buffer(burst.size() + message.size());
  size_t have = 0;
  while (outstanding > 0) {
    absl::StatusOr<size_t> n = ReadSome(fd, buffer.data() + have, buffer.size() - have, wait);
    if (!n.ok()) return n.status();
    have += *n;
    size_t count = 0;
    size_t next_bytes = 0;
    const size_t complete = CompleteMessages(buffer.data(), have, &count, &next_bytes);
    if (count == 0) continue;
    std::memmove(buffer.data(), buffer.data() + complete, have - complete);
    have -= complete;
    const Clock::time_point now = Clock::now();
    const bool measuring = now < deadline;
    for (size_t i = 0; i < count; ++i) {
      if (measuring) latencies->push_back(Nanos(now - sent[oldest]));
      oldest = (oldest + 1) % sent.size();
    }
    if (!measuring) {
      outstanding -= count;
      continue;
    }
    // Replace each echo with a new message; the ring slots just freed are the newest.
    for (size_t i = 0; i < count; ++i) sent[(oldest + outstanding - count + i) % sent.size()] = now;
    status = WriteAll(fd, burst.data(), count * message.size());
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Samples> RunRawPingPong(size_t payload_bytes, absl::Duration duration,
                                       RawWait wait, absl::Duration gap) {
  absl::StatusOr<std::vector<SocketPair>> pairs = ConnectPairs(1, /*socket_buffer_bytes=*/0);
  if (!pairs.ok()) return pairs.status();
  const std::string message = MakeMessage(payload_bytes);
  std::vector<int64_t> latencies;
  latencies.reserve(1 << 20);
  absl::Status status = RunPairs(*pairs, wait, [&](size_t, int fd) -> absl::Status {
    std::vector<char> echo(message.size());
    const Clock::time_point deadline = Clock::now() + absl::ToChronoNanoseconds(duration);
    for (;;) {
      const Clock::time_point start = Clock::now();
      if (start >= deadline) return absl::OkStatus();
      absl::Status written = WriteAll(fd, message.data(), message.size());
      if (!written.ok()) return written;
      for (size_t have = 0; have < echo.size();) {
        absl::StatusOr<size_t> n = ReadSome(fd, echo.data() + have, echo.size() - have, wait);
        if (!n.ok()) return n.status();
        have += *n;
      }
      latencies.push_back(Nanos(Clock::now() - start));
      if (latencies.size() == 1 && std::memcmp(echo.data(), message.data(), echo.size()) != 0) {
        return absl::DataLossError("raw echo returned different bytes");
      }
      if (gap > absl::ZeroDuration()) {
        std::this_thread::sleep_until(start + absl::ToChronoNanoseconds(gap));  // pacing
      }
    }
  });
  if (!status.ok()) return status;
  return Samples{std::move(latencies), duration};
}

absl::StatusOr<Samples> RunRawPipelined(size_t payload_bytes, int connections, int inflight,
                                        absl::Duration duration, RawWait wait) {
  absl::StatusOr<std::vector<SocketPair>> pairs = ConnectPairs(connections, kPipelinedSocketBuffer);
  if (!pairs.ok()) return pairs.status();
  const std::string message = MakeMessage(payload_bytes);
  std::vector<std::vector<int64_t>> latencies(static_cast<size_t>(connections));
  const Clock::time_point deadline = Clock::now() + absl::ToChronoNanoseconds(duration);
  absl::Status status = RunPairs(*pairs, wait, [&](size_t i, int fd) {
    latencies[i].reserve(1 << 20);
    return PipelinedClient(fd, message, inflight, deadline, wait, &latencies[i]);
  });
  if (!status.ok()) return status;
  std::vector<int64_t> all;
  for (const auto& per_connection : latencies) {
    all.insert(all.end(), per_connection.begin(), per_connection.end());
  }
  return Samples{std::move(all), duration};
}

}  // namespace framerpc::bench

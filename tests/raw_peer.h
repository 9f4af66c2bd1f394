// A blocking raw-socket peer for fault tests: it speaks framerpc frames by hand, or not at all.
#ifndef FRAMERPC_TESTS_RAW_PEER_H_
#define FRAMERPC_TESTS_RAW_PEER_H_

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "transport/frame_codec.h"
#include "base/scoped_fd.h"
#include "transport/socket_address.h"
#include "transport/socket_ops.h"

namespace framerpc::test {

class RawPeer {
 public:
  static absl::StatusOr<RawPeer> Connect(const std::string& address) {
    absl::StatusOr<SocketAddress> parsed = SocketAddress::Parse(address);
    if (!parsed.ok()) return parsed.status();
    absl::StatusOr<ScopedFd> fd = ConnectBlocking(*parsed);
    if (!fd.ok()) return fd.status();
    // A safety net so that a broken server fails the test instead of hanging it.
    timeval tv{30, 0};
    ::setsockopt(fd->get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return RawPeer(*std::move(fd));
  }

  // An already connected socket.
  static RawPeer Adopt(ScopedFd fd) {
    timeval tv{30, 0};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return RawPeer(std::move(fd));
  }

  // The server side: accepts one connection on `listen_fd` (waiting up to 30 s for it).
  static absl::StatusOr<RawPeer> Accept(int listen_fd) {
    pollfd pfd{listen_fd, POLLIN, 0};
    if (::poll(&pfd, 1, 30000) != 1) return absl::DeadlineExceededError("nobody connected");
    ScopedFd fd(::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC));
    if (!fd.valid()) return absl::UnavailableError("accept failed");
    return Adopt(std::move(fd));
  }

  bool SendBytes(absl::string_view bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t n = ::send(fd_.get(), bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }

  bool SendFrame(const Envelope& envelope, absl::string_view message_bytes = {}) {
    return SendBytes(BuildFrame(envelope, message_bytes));
  }

  // A frame built by hand: `message_bytes` go out as the payload whatever they contain.
  static std::string BuildFrame(const Envelope& envelope, absl::string_view message_bytes) {
    const std::string env = envelope.SerializeAsString();
    const uint32_t body = static_cast<uint32_t>(env.size() + message_bytes.size());
    const uint32_t env_size = static_cast<uint32_t>(env.size());
    std::string frame = {'F', 'R', 'P', 'C', 1, 0, 0, 0};
    for (uint32_t v : {body, env_size}) {
      for (int shift = 24; shift >= 0; shift -= 8) frame.push_back(static_cast<char>(v >> shift));
    }
    frame += env;
    frame.append(message_bytes.data(), message_bytes.size());
    return frame;
  }

  // Reads one frame. NOT_FOUND on a clean end of stream, UNAVAILABLE on error or timeout.
  absl::StatusOr<Frame> ReadFrame() {
    return NextFrame(&input_, [this](std::string* input) {
      char buf[65536];
      const ssize_t n = ::recv(fd_.get(), buf, sizeof(buf), 0);
      if (n == 0) return absl::NotFoundError("end of stream");
      if (n < 0) return absl::UnavailableError("recv failed");
      input->append(buf, static_cast<size_t>(n));
      return absl::OkStatus();
    });
  }

  // The next frame of `input`, taken out of it. While no whole frame is there, `read_more` appends
  // bytes to `input`; the status it fails with ends the read.
  static absl::StatusOr<Frame> NextFrame(
      std::string* input, const std::function<absl::Status(std::string*)>& read_more) {
    for (;;) {
      Frame frame;
      DecodeResult result = DecodeFrame(*input, FrameLimits{}, &frame);
      if (result.outcome == DecodeOutcome::kFrame) {
        input->erase(0, result.consumed);
        return frame;
      }
      if (result.outcome == DecodeOutcome::kError) return result.error;
      if (absl::Status more = read_more(input); !more.ok()) return more;
    }
  }

  // True if the peer closed the connection (EOF or reset) with nothing more to read.
  bool ReadEof() {
    char c;
    return input_.empty() && ::recv(fd_.get(), &c, 1, 0) <= 0;
  }

  int fd() const { return fd_.get(); }

 private:
  explicit RawPeer(ScopedFd fd) : fd_(std::move(fd)) {}
  ScopedFd fd_;
  std::string input_;
};

}  // namespace framerpc::test

#endif  // FRAMERPC_TESTS_RAW_PEER_H_

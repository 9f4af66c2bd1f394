// Socket addresses as framerpc spells them: "127.0.0.1:7000", "[::1]:7000", "localhost:7000"
// (resolved numerically only), "unix:/path/to.sock", and "unix:@name" for a Linux abstract Unix
// socket (no file: the name lives in the network namespace, and anyone in that namespace may
// connect, whatever file permissions say). Value type; thread-compatible.
#ifndef FRAMERPC_TRANSPORT_SOCKET_ADDRESS_H_
#define FRAMERPC_TRANSPORT_SOCKET_ADDRESS_H_

#include <sys/socket.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace framerpc {

class SocketAddress {
 public:
  // INVALID_ARGUMENT with the reason for a malformed address.
  static absl::StatusOr<SocketAddress> Parse(absl::string_view text);
  // From what accept()/getsockname() returned.
  static SocketAddress FromSockaddr(const sockaddr* addr, socklen_t len);

  int family() const { return storage_.ss_family; }
  bool is_unix() const { return family() == AF_UNIX; }
  // A Unix socket in the abstract namespace ("unix:@name"): there is no file to create or remove.
  bool is_abstract_unix() const;
  bool is_loopback() const;
  const sockaddr* sockaddr_ptr() const { return reinterpret_cast<const sockaddr*>(&storage_); }
  socklen_t length() const { return length_; }
  // 0 for Unix sockets.
  int port() const;
  // Canonical text form, parseable by Parse().
  std::string ToString() const;

 private:
  static absl::StatusOr<SocketAddress> ParseUnix(absl::string_view text);

  sockaddr_storage storage_{};
  socklen_t length_ = 0;
};

}  // namespace framerpc

#endif  // FRAMERPC_TRANSPORT_SOCKET_ADDRESS_H_

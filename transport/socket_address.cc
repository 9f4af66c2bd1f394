#include "transport/socket_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace framerpc {
namespace {

absl::StatusOr<int> ParsePort(absl::string_view text, absl::string_view whole) {
  int port = 0;
  const bool digits_only = !text.empty() && text.size() <= 5 &&
                           text.find_first_not_of("0123456789") == absl::string_view::npos;
  if (!digits_only || !absl::SimpleAtoi(text, &port) || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("bad port in address '", whole, "'"));
  }
  return port;
}

}  // namespace

absl::StatusOr<SocketAddress> SocketAddress::ParseUnix(absl::string_view text) {
  absl::string_view path = text.substr(5);
  const bool abstract = absl::StartsWith(path, "@");
  if (abstract) path.remove_prefix(1);
  sockaddr_un un{};
  // An abstract name takes the place of the path after sun_path's leading NUL byte; a path needs
  // room for its own terminating NUL. Either way at most sizeof(sun_path) - 1 bytes.
  if (path.empty() || path.size() >= sizeof(un.sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat(
        abstract ? "abstract unix socket name must be 1 to " : "unix socket path must be 1 to ",
        sizeof(un.sun_path) - 1, " bytes: '", text, "'"));
  }
  if (path.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("unix socket address contains a NUL byte: '", text, "'"));
  }
  un.sun_family = AF_UNIX;
  std::memcpy(un.sun_path + (abstract ? 1 : 0), path.data(), path.size());
  SocketAddress address;
  std::memcpy(&address.storage_, &un, sizeof(un));
  // The kernel takes an abstract name's length from the address length: no trailing NUL.
  address.length_ = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
  return address;
}

bool SocketAddress::is_abstract_unix() const {
  const auto* un = reinterpret_cast<const sockaddr_un*>(&storage_);
  return is_unix() && length_ > offsetof(sockaddr_un, sun_path) && un->sun_path[0] == '\0';
}

absl::StatusOr<SocketAddress> SocketAddress::Parse(absl::string_view text) {
  SocketAddress address;
  if (absl::StartsWith(text, "unix:")) return ParseUnix(text);
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("unterminated '[' in address '", text, "'"));
    }
    if (close + 1 >= text.size() || text[close + 1] != ':') {
      return absl::InvalidArgumentError(absl::StrCat("missing ':port' after ']' in '", text, "'"));
    }
  }
  const size_t colon = text.rfind(':');
  if (colon == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("address '", text, "' is not host:port, [v6]:port or unix:/path"));
  }
  absl::string_view host = text.substr(0, colon);
  auto port = ParsePort(text.substr(colon + 1), text);
  if (!port.ok()) return port.status();
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    const std::string v6(host.substr(1, host.size() - 2));
    sockaddr_in6 in6{};
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(static_cast<uint16_t>(*port));
    if (::inet_pton(AF_INET6, v6.c_str(), &in6.sin6_addr) != 1) {
      return absl::InvalidArgumentError(absl::StrCat("bad IPv6 address in '", text, "'"));
    }
    std::memcpy(&address.storage_, &in6, sizeof(in6));
    address.length_ = sizeof(in6);
    return address;
  }
  std::string v4(host);
  if (v4 == "localhost") v4 = "127.0.0.1";
  if (v4.empty()) v4 = "0.0.0.0";
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(static_cast<uint16_t>(*port));
  if (::inet_pton(AF_INET, v4.c_str(), &in.sin_addr) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("bad IPv4 address in '", text, "'"));
  }
  std::memcpy(&address.storage_, &in, sizeof(in));
  address.length_ = sizeof(in);
  return address;
}

SocketAddress SocketAddress::FromSockaddr(const sockaddr* addr, socklen_t len) {
  SocketAddress address;
  len = std::min<socklen_t>(len, sizeof(address.storage_));
  std::memcpy(&address.storage_, addr, len);
  address.length_ = len;
  return address;
}

bool SocketAddress::is_loopback() const {
  if (family() == AF_UNIX) return true;
  if (family() == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&storage_);
    return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
  }
  const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&storage_);
  return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
}

int SocketAddress::port() const {
  if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
  if (family() == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
  }
  return 0;
}

std::string SocketAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (family() == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&storage_);
    ::inet_ntop(AF_INET, &in->sin_addr, buf, sizeof(buf));
    return absl::StrCat(buf, ":", port());
  }
  if (family() == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&storage_);
    ::inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof(buf));
    return absl::StrCat("[", buf, "]:", port());
  }
  if (family() == AF_UNIX) {
    const auto* un = reinterpret_cast<const sockaddr_un*>(&storage_);
    const size_t max = length_ > offsetof(sockaddr_un, sun_path)
                           ? length_ - offsetof(sockaddr_un, sun_path)
                           : 0;
    if (is_abstract_unix()) return absl::StrCat("unix:@", std::string(un->sun_path + 1, max - 1));
    return absl::StrCat("unix:", std::string(un->sun_path, strnlen(un->sun_path, max)));
  }
  return "unknown";
}

}  // namespace framerpc

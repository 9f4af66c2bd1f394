#include "services/auth/local_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <string>

#include "absl/strings/match.h"

namespace framerpc::auth {

bool IsLocalOnlyAddress(absl::string_view address) {
  if (absl::StartsWith(address, "unix:")) return true;
  std::string host;
  if (absl::StartsWith(address, "[")) {
    const size_t close = address.find(']');
    if (close == absl::string_view::npos) return false;
    host = std::string(address.substr(1, close - 1));
    in6_addr v6;
    if (::inet_pton(AF_INET6, host.c_str(), &v6) != 1) return false;
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  }
  const size_t colon = address.rfind(':');
  host = std::string(address.substr(0, colon));  // npos: the whole string
  in_addr v4;
  if (::inet_pton(AF_INET, host.c_str(), &v4) != 1) return false;
  return (ntohl(v4.s_addr) >> 24) == 127;
}

}  // namespace framerpc::auth

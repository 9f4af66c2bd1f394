#include "rpc/target.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "rpc/resolver.h"
#include "transport/socket_address.h"

namespace framerpc {

namespace {

// The scheme of "<scheme>:..." when one is registered.
absl::string_view RegisteredScheme(absl::string_view text) {
  const size_t colon = text.find(':');
  if (colon == absl::string_view::npos || colon == 0) return {};
  const absl::string_view scheme = text.substr(0, colon);
  return FindResolverScheme(scheme) != nullptr ? scheme : absl::string_view();
}

}  // namespace

bool IsBalancedTarget(absl::string_view text) {
  return absl::StartsWith(text, "ipv4:") || absl::StartsWith(text, "ipv6:") ||
         absl::StartsWith(text, "dns:") || absl::StrContains(text, ',') ||
         !RegisteredScheme(text).empty();
}

absl::StatusOr<Target> ParseTarget(absl::string_view text) {
  Target target;
  absl::string_view rest = text;
  if (const absl::string_view scheme = RegisteredScheme(text); !scheme.empty()) {
    target.kind = Target::Kind::kRegistered;
    target.scheme = std::string(scheme);
    return target;
  }
  if (absl::ConsumePrefix(&rest, "dns:")) {
    target.kind = Target::Kind::kDns;
    if (absl::ConsumePrefix(&rest, "//")) {
      const size_t slash = rest.find('/');
      if (slash != 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "target '", text, "': a DNS authority is not supported (dns:///host:port uses the "
                              "system resolver)"));
      }
      rest.remove_prefix(1);
    }
    const size_t colon = rest.rfind(':');
    int port = 0;
    if (colon == absl::string_view::npos || colon == 0 ||
        !absl::SimpleAtoi(rest.substr(colon + 1), &port) || port <= 0 || port > 65535) {
      return absl::InvalidArgumentError(
          absl::StrCat("target '", text, "': expected dns:///host:port"));
    }
    absl::string_view host = rest.substr(0, colon);
    if (absl::StartsWith(host, "[") && absl::EndsWith(host, "]")) {
      host = host.substr(1, host.size() - 2);
    }
    target.host = std::string(host);
    target.port = std::string(rest.substr(colon + 1));
    return target;
  }
  int family = 0;
  if (absl::ConsumePrefix(&rest, "ipv4:")) family = 4;
  if (family == 0 && absl::ConsumePrefix(&rest, "ipv6:")) family = 6;
  for (absl::string_view address : absl::StrSplit(rest, ',')) {
    absl::StatusOr<SocketAddress> parsed = SocketAddress::Parse(address);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("target '", text, "': ", parsed.status().message()));
    }
    const bool v6 = absl::StartsWith(address, "[");
    if ((family == 4 && (v6 || parsed->is_unix())) || (family == 6 && !v6)) {
      return absl::InvalidArgumentError(absl::StrCat("target '", text, "': '", address,
                                                     "' is not an ipv", family, " address"));
    }
    target.addresses.emplace_back(address);
  }
  if (target.addresses.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("target '", text, "' names no address"));
  }
  return target;
}

}  // namespace framerpc

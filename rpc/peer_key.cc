#include "rpc/peer_key.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"

namespace framerpc {
namespace {

std::string UnixKey(const PeerIdentity& identity) {
  return identity.unix_uid.has_value() ? absl::StrCat("unix uid ", *identity.unix_uid) : "unix";
}

// "[host]" of "[host]:port"; other text whole.
absl::string_view BracketedHost(absl::string_view text) {
  const size_t close = text.find(']');
  if (!absl::StartsWith(text, "[") || close == absl::string_view::npos) return text;
  return text.substr(0, close + 1);
}

}  // namespace

std::string PeerKey(const SocketAddress& peer, const PeerIdentity& identity) {
  if (peer.is_unix()) return UnixKey(identity);
  char text[INET6_ADDRSTRLEN] = {};
  if (peer.family() == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(peer.sockaddr_ptr())->sin_addr, text,
                sizeof text);
    return text;
  }
  ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(peer.sockaddr_ptr())->sin6_addr,
              text, sizeof text);
  return absl::StrCat("[", text, "]");
}

std::string PeerKey(absl::string_view peer, const PeerIdentity& identity) {
  if (identity.unix_uid.has_value()) return UnixKey(identity);
  absl::string_view text = peer;
  if (!absl::ConsumePrefix(&text, "ipv4:")) absl::ConsumePrefix(&text, "ipv6:");
  if (absl::StartsWith(text, "unix:") || absl::StartsWith(text, "unix-abstract:")) {
    return UnixKey(identity);
  }
  const std::string address =
      absl::StrReplaceAll(text, {{"%5B", "["}, {"%5D", "]"}, {"%5b", "["}, {"%5d", "]"}});
  absl::StatusOr<SocketAddress> parsed = SocketAddress::Parse(address);
  if (parsed.ok() && !parsed->is_unix()) return PeerKey(*parsed, identity);
  return std::string(BracketedHost(address));
}

std::string PeerKey(const ServerContext& context) {
  return PeerKey(context.peer(), context.peer_identity());
}

}  // namespace framerpc

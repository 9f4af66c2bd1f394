#include "adapters/grpc/same_port.h"

#include <algorithm>
#include <utility>

namespace framerpc {

Server::ProtocolMatch MatchHttp2Preface(absl::string_view first_bytes) {
  constexpr absl::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  const size_t n = std::min(first_bytes.size(), kPreface.size());
  if (first_bytes.substr(0, n) != kPreface.substr(0, n)) return Server::ProtocolMatch::kNoMatch;
  return n == kPreface.size() ? Server::ProtocolMatch::kMatch : Server::ProtocolMatch::kNeedMore;
}

absl::Status ServeGrpcOnSamePort(Server* server, GrpcAdapter* adapter) {
  Server::ForeignProtocol http2;
  http2.name = "http2";
  http2.match = MatchHttp2Preface;
  http2.handler = [adapter](ScopedFd fd, const SocketAddress& peer) {
    adapter->AdoptConnection(std::move(fd), peer);
  };
  return server->AddForeignProtocol(std::move(http2));
}

}  // namespace framerpc

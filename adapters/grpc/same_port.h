// One port for both protocols: the framed Server hands the connections that open with the
// HTTP/2 client preface to a GrpcAdapter. Its own target, so that the adapter alone does not link
// the TCP server.
#ifndef FRAMERPC_ADAPTERS_GRPC_SAME_PORT_H_
#define FRAMERPC_ADAPTERS_GRPC_SAME_PORT_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "adapters/grpc/grpc_adapter.h"
#include "rpc/server.h"

namespace framerpc {

// Whether a connection's first bytes are (a prefix of) the HTTP/2 client connection preface
// "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n": kMatch once all 24 bytes are in.
Server::ProtocolMatch MatchHttp2Preface(absl::string_view first_bytes);

// Makes `server` hand its HTTP/2 connections to `adapter`, once their whole client preface has
// arrived: one port, both protocols (see Server::AddForeignProtocol and docs/protocol.md §12).
// A connection whose preface stalls is closed at the server's first-byte timeout. Call before
// server->Start(). `adapter` must stay alive until server->Shutdown() has returned; shutting the
// adapter down first is fine (connections handed over after that are closed).
absl::Status ServeGrpcOnSamePort(Server* server, GrpcAdapter* adapter);

}  // namespace framerpc

#endif  // FRAMERPC_ADAPTERS_GRPC_SAME_PORT_H_

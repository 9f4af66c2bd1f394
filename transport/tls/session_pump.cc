#include "transport/tls/session_pump.h"

#include <sys/socket.h>
#include <unistd.h>

#include <utility>

#include "gtest/gtest.h"

namespace framerpc {

SocketPair::SocketPair() {
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds_), 0);
}

SocketPair::~SocketPair() {
  ::close(fds_[0]);
  ::close(fds_[1]);
}

Outcome Pump(TlsSession* client, TlsSession* server) {
  Outcome out;
  bool client_done = false, server_done = false;
  for (int round = 0; round < 100 && !(client_done && server_done); ++round) {
    if (!client_done && out.client.ok()) {
      absl::StatusOr<TlsSession::Step> step = client->Handshake();
      if (!step.ok()) out.client = step.status();
      client_done = step.ok() && *step == TlsSession::Step::kDone;
    }
    if (!server_done && out.server.ok()) {
      absl::StatusOr<TlsSession::Step> step = server->Handshake();
      if (!step.ok()) out.server = step.status();
      server_done = step.ok() && *step == TlsSession::Step::kDone;
    }
    if (!out.client.ok() && !out.server.ok()) break;
    if ((!out.client.ok() && server_done) || (!out.server.ok() && client_done)) break;
  }
  return out;
}

RecordIo ReadSome(TlsSession* session, std::string* into, size_t want) {
  char buf[RecordLayer::kMaxRecordBytes];
  for (int i = 0; i < 1000 && into->size() < want; ++i) {
    RecordIo io = session->Read(buf, sizeof buf);
    if (io.kind == RecordIo::Kind::kOk) {
      into->append(buf, io.bytes);
    } else if (io.kind != RecordIo::Kind::kWantRead) {
      return io;
    } else {
      break;
    }
  }
  return RecordIo{};
}

std::unique_ptr<TlsSession> NewSession(const std::shared_ptr<TlsContext>& context, int fd,
                                       absl::string_view name) {
  absl::StatusOr<std::unique_ptr<TlsSession>> session = context->NewSession(fd, name);
  EXPECT_TRUE(session.ok()) << session.status();
  return session.ok() ? *std::move(session) : nullptr;
}

}  // namespace framerpc

// SyncCalls: how a pooled connection's bytes travel, plaintext or TLS (see sync_calls.h).
#include "rpc/sync_calls.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "rpc/blocking_handshake.h"

namespace framerpc {

bool SyncCalls::SendNow(Conn* conn, absl::string_view frame) {
  if (conn->tls == nullptr) {
    const ssize_t n =
        ::send(conn->fd.get(), frame.data(), frame.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    return n == static_cast<ssize_t>(frame.size());
  }
  // One record (frames sent here are small); a write the socket does not take whole leaves the
  // session mid-record, and the connection is then dropped.
  conn->tls->SetDontWait(true);
  const RecordIo io = conn->tls->Write(frame.data(), frame.size());
  conn->tls->SetDontWait(false);
  return io.kind == RecordIo::Kind::kOk && io.bytes == frame.size();
}

ssize_t SyncCalls::ReadSome(Conn* conn, bool dont_wait, int* err, std::string* tls_error) {
  if (conn->tls == nullptr) {
    if (!dont_wait) return conn->input.ReadFd(conn->fd.get(), 256u << 10, err);
    char buf[4096];
    const ssize_t n = ::recv(conn->fd.get(), buf, sizeof(buf), MSG_DONTWAIT);
    if (n < 0) *err = errno;
    if (n > 0) conn->input.Append(absl::string_view(buf, static_cast<size_t>(n)));
    return n;
  }
  // Decrypted straight into the input buffer.
  size_t room = 0;
  char* into = conn->input.BeginWrite(RecordLayer::kMaxRecordBytes, &room);
  if (dont_wait) conn->tls->SetDontWait(true);
  RecordIo io = conn->tls->Read(into, room);
  if (dont_wait) conn->tls->SetDontWait(false);
  conn->input.CommitWrite(io.kind == RecordIo::Kind::kOk ? io.bytes : 0);
  switch (io.kind) {
    case RecordIo::Kind::kOk:
      return static_cast<ssize_t>(io.bytes);
    case RecordIo::Kind::kClosed:
      return 0;
    case RecordIo::Kind::kWantRead:
    case RecordIo::Kind::kWantWrite:  // a post-handshake message's answer waits for the socket
      *err = EAGAIN;
      return -1;
    case RecordIo::Kind::kError:
      break;
  }
  *err = EPROTO;
  *tls_error = std::string(io.error.message());
  return -1;
}

absl::Status SyncCalls::Handshake(Conn* conn, absl::Time deadline, absl::Time connect_deadline) {
  absl::StatusOr<std::unique_ptr<TlsSession>> session =
      tls_->NewSession(conn->fd.get(), tls_server_name_);
  if (!session.ok()) return session.status();
  conn->tls = *std::move(session);
  absl::Status status = BlockingHandshake(conn->tls.get(), conn->fd.get(),
                                          std::min(deadline, connect_deadline), conn->cancelled);
  // The multiplexed connection's words (rpc/stream_channel.cc), so that a call fails alike
  // whichever path it took.
  if (absl::IsDeadlineExceeded(status) && deadline >= connect_deadline) {
    return absl::UnavailableError(absl::StrCat("TLS handshake with ", target_, " timed out"));
  }
  if (absl::IsUnavailable(status)) {
    return absl::UnavailableError(absl::StrCat("TLS handshake with ", target_, " failed: ",
                                               absl::StripPrefix(status.message(),
                                                                 "TLS handshake: ")));
  }
  if (absl::IsDeadlineExceeded(status)) return absl::DeadlineExceededError("deadline exceeded");
  return status;
}

absl::Status SyncCalls::SendTls(Conn* conn, absl::string_view head, absl::string_view tail,
                                absl::Time deadline) {
  // The records of a frame longer than one leave in one send, as the frame does in plaintext.
  TlsSession& tls = *conn->tls;
  tls.Cork();
  RecordIo io;
  // kWantWrite: SO_SNDTIMEO expired, or a signal; the same bytes go again until the deadline.
  for (absl::string_view* bytes : {&head, &tail}) {
    while (!bytes->empty()) {
      io = tls.Write(bytes->data(), bytes->size());
      if (io.kind == RecordIo::Kind::kOk) {
        bytes->remove_prefix(io.bytes);
      } else if (io.kind != RecordIo::Kind::kWantWrite || absl::Now() >= deadline) {
        break;
      }
    }
    if (!bytes->empty()) break;
  }
  if (head.empty() && tail.empty()) {
    do {
      io = tls.Uncork();
    } while (io.kind == RecordIo::Kind::kWantWrite && absl::Now() < deadline);
  } else {
    tls.Uncork();  // the connection is dropped; nothing more is written
  }
  switch (io.kind) {
    case RecordIo::Kind::kOk:
      return absl::OkStatus();
    case RecordIo::Kind::kWantRead:
    case RecordIo::Kind::kWantWrite:
      return absl::DeadlineExceededError("deadline exceeded");
    case RecordIo::Kind::kClosed:
      return absl::UnavailableError(absl::StrCat("connection to ", target_, " lost: closed"));
    case RecordIo::Kind::kError:
      break;
  }
  // A server that refused our certificate after our handshake was done (TLS 1.3 lets the client
  // finish first) has sent its alert and closed: the alert, not the broken pipe, says why.
  int err = 0;
  std::string alert;
  if (ReadSome(conn, /*dont_wait=*/true, &err, &alert) < 0 && !alert.empty()) {
    return absl::UnavailableError(absl::StrCat("connection to ", target_, " lost: ", alert));
  }
  return absl::UnavailableError(
      absl::StrCat("connection to ", target_, " lost: ", io.error.message()));
}

}  // namespace framerpc

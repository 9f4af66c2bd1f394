// How a TlsSession takes its input (transport/tls/socket_bio.h): records as the socket delivers
// them, whole or a byte at a time, several from one recv(2), and a peer's damaged or cut-short
// records. The test captures the records a real client session writes and injects them, as they
// are or altered, into the server session's socket.
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "transport/tls/session_pump.h"
#include "transport/tls/test_pki.h"
#include "transport/tls/tls_context.h"
#include "transport/tls/tls_session.h"

namespace framerpc {
namespace {

using ::testing::HasSubstr;

constexpr size_t kHeader = 5;  // a TLS record's header: type, version, length

std::string Pattern(size_t size) {
  std::string data(size, '\0');
  for (size_t i = 0; i < size; ++i) data[i] = static_cast<char>(i * 131 % 251);
  return data;
}

class TlsSessionInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TestPkiDir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    ca_ = std::make_unique<TestCa>(dir_, "main");
    TestCertSpec spec;
    spec.dns = {"localhost"};
    const TestCertFiles cert = ca_->Issue("server", spec);
    TlsServerOptions server_options;
    server_options.cert_chain_file = cert.cert;
    server_options.private_key_file = cert.key;
    TlsClientOptions client_options;
    client_options.ca_file = ca_->cert_file();
    absl::StatusOr<std::shared_ptr<TlsContext>> server = TlsContext::NewServer(server_options);
    absl::StatusOr<std::shared_ptr<TlsContext>> client = TlsContext::NewClient(client_options);
    ASSERT_TRUE(server.ok()) << server.status();
    ASSERT_TRUE(client.ok()) << client.status();
    server_ = NewSession(*server, sockets_.server());
    client_ = NewSession(*client, sockets_.client(), "localhost");
    ASSERT_NE(server_, nullptr);
    ASSERT_NE(client_, nullptr);
    Outcome out = Pump(client_.get(), server_.get());
    ASSERT_TRUE(out.client.ok()) << out.client;
    ASSERT_TRUE(out.server.ok()) << out.server;
  }

  // The records the client session makes of `plaintext`, taken off the server's socket before
  // the server session sees them.
  std::string Capture(absl::string_view plaintext) {
    size_t offset = 0;
    while (offset < plaintext.size()) {
      RecordIo io = client_->Write(plaintext.data() + offset, plaintext.size() - offset);
      EXPECT_EQ(io.kind, RecordIo::Kind::kOk) << io.error;
      if (io.kind != RecordIo::Kind::kOk) break;
      offset += io.bytes;
    }
    std::string raw;
    char buf[65536];
    for (;;) {
      const ssize_t n = ::recv(sockets_.server(), buf, sizeof buf, 0);
      if (n <= 0) break;
      raw.append(buf, static_cast<size_t>(n));
    }
    return raw;
  }

  // Bytes for the server session to read: written to the client's end of the pair.
  void Inject(absl::string_view raw) {
    while (!raw.empty()) {
      const ssize_t n = ::send(sockets_.client(), raw.data(), raw.size(), MSG_NOSIGNAL);
      ASSERT_GT(n, 0);
      raw.remove_prefix(static_cast<size_t>(n));
    }
  }

  // Reads the server session until it wants more; the last outcome that was not kOk.
  RecordIo Drain(std::string* into, int* reads = nullptr) {
    char buf[RecordLayer::kMaxRecordBytes];
    for (;;) {
      RecordIo io = server_->Read(buf, sizeof buf);
      if (io.kind != RecordIo::Kind::kOk) return io;
      into->append(buf, io.bytes);
      if (reads != nullptr) ++*reads;
    }
  }

  int ServerSocketUnread() {
    int unread = -1;
    EXPECT_EQ(::ioctl(sockets_.server(), FIONREAD, &unread), 0);
    return unread;
  }

  std::string dir_;
  std::unique_ptr<TestCa> ca_;
  SocketPair sockets_;
  std::unique_ptr<TlsSession> server_;
  std::unique_ptr<TlsSession> client_;
};

TEST_F(TlsSessionInputTest, RecordsArrivingOneByteAtATimeAreDeliveredWhole) {
  const std::string data = Pattern(40000);  // three records: 16 KiB, 16 KiB, the rest
  const std::string raw = Capture(data);
  ASSERT_GT(raw.size(), data.size());
  std::string got;
  int reads = 0;
  for (char byte : raw) {
    Inject(absl::string_view(&byte, 1));
    RecordIo io = Drain(&got, &reads);
    ASSERT_EQ(io.kind, RecordIo::Kind::kWantRead) << io.error;
    EXPECT_FALSE(server_->HasBufferedInput());
  }
  EXPECT_EQ(reads, 3);  // a record's plaintext appears only once all of it is in
  EXPECT_TRUE(got == data);
}

TEST_F(TlsSessionInputTest, SeveralRecordsFromOneRecvStayBufferedInTheSession) {
  const std::string data = Pattern(40000);
  Inject(Capture(data));
  char buf[RecordLayer::kMaxRecordBytes];
  RecordIo first = server_->Read(buf, sizeof buf);
  ASSERT_EQ(first.kind, RecordIo::Kind::kOk) << first.error;
  EXPECT_EQ(first.bytes, RecordLayer::kMaxRecordBytes);
  // The session took everything off the socket: the rest can be read without the socket ever
  // becoming readable again, and the session says so.
  EXPECT_EQ(ServerSocketUnread(), 0);
  EXPECT_TRUE(server_->HasBufferedInput());
  std::string got(buf, first.bytes);
  EXPECT_EQ(Drain(&got).kind, RecordIo::Kind::kWantRead);
  EXPECT_TRUE(got == data);
  EXPECT_FALSE(server_->HasBufferedInput());
}

TEST_F(TlsSessionInputTest, ACorruptedByteInARecordsBodyIsAnErrorAndNothingOfIt) {
  const std::string data = Pattern(20000);
  std::string raw = Capture(data);
  raw[kHeader + 1000] ^= 0x01;  // mid-body of the first record
  Inject(raw);
  std::string got;
  RecordIo io = Drain(&got);
  ASSERT_EQ(io.kind, RecordIo::Kind::kError);
  EXPECT_TRUE(absl::IsUnavailable(io.error)) << io.error;
  EXPECT_THAT(io.error.message(), HasSubstr("TLS read"));
  EXPECT_THAT(io.error.message(), HasSubstr("bad record mac"));
  EXPECT_TRUE(got.empty());
  // The session stays failed; reading again reports an error, not a crash or data.
  EXPECT_EQ(Drain(&got).kind, RecordIo::Kind::kError);
  EXPECT_TRUE(got.empty());
}

TEST_F(TlsSessionInputTest, GarbageAfterAGoodRecordIsAnErrorAfterItsData) {
  const std::string data = Pattern(1000);
  Inject(Capture(data) + "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string got;
  RecordIo io = Drain(&got);
  ASSERT_EQ(io.kind, RecordIo::Kind::kError);
  EXPECT_THAT(io.error.message(), HasSubstr("TLS read"));
  EXPECT_TRUE(got == data);
}

TEST_F(TlsSessionInputTest, ARecordCutShortByTheEndOfTheStreamGivesNoneOfItsBytes) {
  const std::string data = Pattern(20000);
  const std::string raw = Capture(data);
  Inject(absl::string_view(raw).substr(0, 8000));  // half of the first record
  std::string got;
  ASSERT_EQ(Drain(&got).kind, RecordIo::Kind::kWantRead);
  ASSERT_EQ(::shutdown(sockets_.client(), SHUT_WR), 0);
  // Mid-record, the end of the stream is an error (between records it would read as the end:
  // SSL_OP_IGNORE_UNEXPECTED_EOF); the partial record is never decrypted, so none of it is
  // delivered.
  RecordIo io = Drain(&got);
  ASSERT_EQ(io.kind, RecordIo::Kind::kError);
  EXPECT_TRUE(absl::IsUnavailable(io.error)) << io.error;
  EXPECT_THAT(io.error.message(), HasSubstr("TLS read: the peer closed the connection"));
  EXPECT_TRUE(got.empty());
}

TEST_F(TlsSessionInputTest, SmallMessagesShareOneSmallBufferUntilIdle) {
  std::string got;
  for (const char* message : {"ping", "pong"}) {
    Inject(Capture(message));
    got.clear();
    EXPECT_EQ(Drain(&got).kind, RecordIo::Kind::kWantRead);
    EXPECT_EQ(got, message);
    EXPECT_GT(server_->buffer_bytes_held(), 0u);
    EXPECT_LE(server_->buffer_bytes_held(), 1024u);
  }
  // A message of a few KiB takes a buffer of its size, given back once read.
  const std::string data = Pattern(5000);
  Inject(Capture(data));
  got.clear();
  EXPECT_EQ(Drain(&got).kind, RecordIo::Kind::kWantRead);
  EXPECT_TRUE(got == data);
  EXPECT_EQ(server_->buffer_bytes_held(), 0u);
  Inject(Capture("ping"));
  got.clear();
  EXPECT_EQ(Drain(&got).kind, RecordIo::Kind::kWantRead);
  server_->ReleaseIdleBuffers();
  EXPECT_EQ(server_->buffer_bytes_held(), 0u);
}

TEST_F(TlsSessionInputTest, ABulkReaderKeepsItsBufferUntilASmallRecvOrIdle) {
  EXPECT_LE(server_->buffer_bytes_held(), 1024u);  // the handshake's small buffer at most
  // 100 KB of records: a recv of 64 KiB, then one of the rest (more than a record's worth).
  const std::string data = Pattern(100000);
  Inject(Capture(data));
  std::string got;
  EXPECT_EQ(Drain(&got).kind, RecordIo::Kind::kWantRead);
  EXPECT_TRUE(got == data);
  const size_t held = server_->buffer_bytes_held();
  EXPECT_GE(held, 64u << 10);  // kept for the rest of the spell
  // A record's worth or less: the spell has ended, and the buffer goes once drained.
  const std::string last = Pattern(5000);
  Inject(Capture(last));
  got.clear();
  EXPECT_EQ(Drain(&got).kind, RecordIo::Kind::kWantRead);
  EXPECT_TRUE(got == last);
  EXPECT_EQ(server_->buffer_bytes_held(), 0u);
  // Or the connection is found idle first.
  Inject(Capture(data));
  got.clear();
  EXPECT_EQ(Drain(&got).kind, RecordIo::Kind::kWantRead);
  EXPECT_GE(server_->buffer_bytes_held(), 64u << 10);
  server_->ReleaseIdleBuffers();
  EXPECT_EQ(server_->buffer_bytes_held(), 0u);
  // And the session goes on.
  Inject(Capture("again"));
  got.clear();
  EXPECT_EQ(Drain(&got).kind, RecordIo::Kind::kWantRead);
  EXPECT_EQ(got, "again");
}

TEST_F(TlsSessionInputTest, ReleasingWhileRecordsWaitKeepsThem) {
  const std::string data = Pattern(100000);
  Inject(Capture(data));
  char buf[RecordLayer::kMaxRecordBytes];
  RecordIo first = server_->Read(buf, sizeof buf);
  ASSERT_EQ(first.kind, RecordIo::Kind::kOk) << first.error;
  server_->ReleaseIdleBuffers();  // not idle: records are buffered
  EXPECT_GT(server_->buffer_bytes_held(), 0u);
  std::string got(buf, first.bytes);
  EXPECT_EQ(Drain(&got).kind, RecordIo::Kind::kWantRead);
  EXPECT_TRUE(got == data);
}

}  // namespace
}  // namespace framerpc

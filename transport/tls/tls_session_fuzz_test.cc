// The server side of TlsSession fed hostile first flights, deterministic (a fixed seed, a bounded
// number of inputs): random bytes, a real ClientHello mutated, cut short or followed by garbage,
// and plaintext. Each input is written to a socketpair and the client end is half-closed, as a
// peer that sends it and stops. The session must never crash nor finish the handshake (the
// client's keys are not there), and must fail with UNAVAILABLE naming a cause within a bounded
// number of steps: a refusal, never a wait for bytes that cannot come. Under --config=asan this
// is also the memory check of OpenSSL's error paths as we drive them.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "transport/tls/client_hello_mutator.h"
#include "transport/tls/test_pki.h"
#include "transport/tls/tls_context.h"
#include "transport/tls/tls_session.h"

namespace framerpc {
namespace {

constexpr int kInputs = 2500;

// Drains what the server wrote (its flight, an alert) so that it never blocks on a full buffer.
void Drain(int fd) {
  char buf[16384];
  while (::read(fd, buf, sizeof buf) > 0) {
  }
}

TEST(TlsSessionFuzzTest, HostileFirstFlightsAreRefusedNeverAccepted) {
  const std::string dir = TestPkiDir("tls_session_fuzz");
  TestCa ca(dir, "fuzz");
  TestCertSpec spec;
  spec.dns = {"server.test"};
  const TestCertFiles cert = ca.Issue("server", spec);
  for (ClientAuth auth : {ClientAuth::kNone, ClientAuth::kRequire}) {
    TlsServerOptions options;
    options.cert_chain_file = cert.cert;
    options.private_key_file = cert.key;
    options.client_auth = auth;
    options.client_ca_file = ca.cert_file();
    absl::StatusOr<std::shared_ptr<TlsContext>> server = TlsContext::NewServer(options);
    ASSERT_TRUE(server.ok()) << server.status();
    absl::StatusOr<std::string> hello = MakeClientHello(ca.cert_file(), "server.test");
    ASSERT_TRUE(hello.ok()) << hello.status();
    ASSERT_EQ((*hello)[0], '\x16');

    FirstFlightMutator mutator(*hello, auth == ClientAuth::kNone ? 20261207 : 14);
    std::map<FirstFlightMutator::Kind, int> seen;
    for (int i = 0; i < kInputs; ++i) {
      FirstFlightMutator::Kind kind;
      const std::string input = mutator.Next(&kind);
      ++seen[kind];
      int fds[2];
      ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
      ASSERT_EQ(::write(fds[0], input.data(), input.size()), static_cast<ssize_t>(input.size()));
      ASSERT_EQ(::shutdown(fds[0], SHUT_WR), 0);
      absl::StatusOr<std::unique_ptr<TlsSession>> session = (*server)->NewSession(fds[1]);
      ASSERT_TRUE(session.ok()) << session.status();
      absl::Status outcome;
      int steps = 0;
      for (; steps < 50; ++steps) {
        absl::StatusOr<TlsSession::Step> step = (*session)->Handshake();
        Drain(fds[0]);
        if (!step.ok()) {
          outcome = step.status();
          break;
        }
        ASSERT_NE(*step, TlsSession::Step::kDone)
            << "input " << i << " (kind " << static_cast<int>(kind) << ") finished a handshake";
      }
      EXPECT_EQ(outcome.code(), absl::StatusCode::kUnavailable)
          << "input " << i << " (kind " << static_cast<int>(kind) << "): " << outcome << " after "
          << steps << " steps";
      EXPECT_FALSE(outcome.message().empty());
      session->reset();
      ::close(fds[0]);
      ::close(fds[1]);
    }
    for (int k = 0; k < FirstFlightMutator::kKinds; ++k) {
      EXPECT_GT(seen[static_cast<FirstFlightMutator::Kind>(k)], kInputs / 10) << "kind " << k;
    }
  }
}

}  // namespace
}  // namespace framerpc

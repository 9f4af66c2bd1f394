#include "transport/tls/client_hello_mutator.h"

#include <sys/socket.h>
#include <unistd.h>

#include "absl/status/status.h"
#include "base/scoped_fd.h"
#include "transport/tls/tls_context.h"
#include "transport/tls/tls_session.h"

namespace framerpc {

absl::StatusOr<std::string> MakeClientHello(const std::string& ca_file,
                                            const std::string& server_name) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) {
    return absl::InternalError("socketpair");
  }
  ScopedFd client(fds[0]), server(fds[1]);
  TlsClientOptions options;
  options.ca_file = ca_file;
  options.server_name = server_name;
  absl::StatusOr<std::shared_ptr<TlsContext>> context = TlsContext::NewClient(options);
  if (!context.ok()) return context.status();
  absl::StatusOr<std::unique_ptr<TlsSession>> session = (*context)->NewSession(client.get());
  if (!session.ok()) return session.status();
  absl::StatusOr<TlsSession::Step> step = (*session)->Handshake();
  if (!step.ok()) return step.status();
  std::string hello(16384, '\0');
  const ssize_t n = ::read(server.get(), hello.data(), hello.size());
  if (n <= 5) return absl::InternalError("no ClientHello");
  hello.resize(static_cast<size_t>(n));
  return hello;
}

std::string FirstFlightMutator::RandomBytes(size_t max) {
  std::string out(1 + rng_() % max, '\0');
  for (char& c : out) c = static_cast<char>(rng_());
  return out;
}

void FirstFlightMutator::Mutate(std::string* input) {
  const int edits = 1 + static_cast<int>(rng_() % 4);
  for (int e = 0; e < edits; ++e) {
    const size_t at = rng_() % input->size();
    switch (rng_() % 4) {
      case 0:
        (*input)[at] = static_cast<char>(rng_());
        break;
      case 1:
        (*input)[at] ^= static_cast<char>(1u << (rng_() % 8));
        break;
      case 2:
        input->erase(at, 1 + rng_() % 8);
        break;
      case 3:
        input->insert(at, 1 + rng_() % 8, static_cast<char>(rng_()));
        break;
    }
    if (input->empty()) input->push_back(static_cast<char>(rng_()));
  }
}

std::string FirstFlightMutator::Next(Kind* kind) {
  *kind = static_cast<Kind>(rng_() % kKinds);
  std::string input;
  switch (*kind) {
    case Kind::kRandom:
      return RandomBytes(300);
    case Kind::kMutatedHello:
      input = hello_;
      Mutate(&input);
      return input;
    case Kind::kTruncatedHello:
      return hello_.substr(0, 1 + rng_() % hello_.size());
    case Kind::kHelloAndGarbage:
      return hello_ + RandomBytes(300);
    case Kind::kPlaintext: {
      static const char* const kOpenings[] = {
          "FRPC", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
          "\x15\x03\x03\x00\x02\x02\x28"};  // the last: an alert record, not a handshake
      input = kOpenings[rng_() % 4];
      input += RandomBytes(64);
      if (rng_() % 2 == 0) Mutate(&input);
      return input;
    }
  }
  return RandomBytes(16);
}

}  // namespace framerpc

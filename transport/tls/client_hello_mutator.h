// Seeded mutations of TLS first flights, for the fuzz tests of TlsSession (transport/tls) and of
// the server's first-byte sniffing (tests/tls_sniff_fuzz_test): random bytes, a real ClientHello
// mutated, cut short, or followed by garbage, and plaintext where TLS is expected. Deterministic
// for a seed, given the same base ClientHello. Test-only.
//
// Thread safety: none.
#ifndef FRAMERPC_TRANSPORT_TLS_CLIENT_HELLO_MUTATOR_H_
#define FRAMERPC_TRANSPORT_TLS_CLIENT_HELLO_MUTATOR_H_

#include <cstdint>
#include <random>
#include <string>

#include "absl/status/statusor.h"

namespace framerpc {

// The bytes a client TlsSession made from `ca_file` sends first: one ClientHello record (ALPN
// framerpc/1, SNI `server_name`), made over a socketpair.
absl::StatusOr<std::string> MakeClientHello(const std::string& ca_file,
                                            const std::string& server_name);

class FirstFlightMutator {
 public:
  enum class Kind {
    kRandom,           // 1..300 random bytes
    kMutatedHello,     // the ClientHello with 1..4 edits (replace, flip, delete, insert)
    kTruncatedHello,   // the ClientHello cut anywhere
    kHelloAndGarbage,  // the whole ClientHello, then 1..300 random bytes
    kPlaintext,        // a framed or HTTP opening, perhaps mutated: plaintext where TLS is due
  };
  static constexpr int kKinds = 5;

  FirstFlightMutator(std::string client_hello, uint32_t seed)
      : hello_(std::move(client_hello)), rng_(seed) {}

  // The next input (never empty) and its kind.
  std::string Next(Kind* kind);

 private:
  std::string RandomBytes(size_t max);
  void Mutate(std::string* input);

  const std::string hello_;
  std::mt19937 rng_;
};

}  // namespace framerpc

#endif  // FRAMERPC_TRANSPORT_TLS_CLIENT_HELLO_MUTATOR_H_

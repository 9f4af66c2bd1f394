// A shared-secret bearer token: the access check of the services that must not be open to
// whoever can reach the server (the command service, the file service). RPC-independent: callers
// pass the value of the call's `authorization` metadata entry.
//
// The token travels as the metadata entry
//
//     authorization: Bearer <token>
//
// and is compared in constant time. It comes from a file that only its owner may read (like an
// ssh key), so that it does not show up in `ps` or in shell history. The transport does not
// encrypt: over a network that others can watch, anyone who sees one call can replay the token.
//
// Thread safety: immutable after creation; Check() is safe from any number of threads.
#ifndef FRAMERPC_SERVICES_AUTH_SHARED_SECRET_H_
#define FRAMERPC_SERVICES_AUTH_SHARED_SECRET_H_

#include <cstddef>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace framerpc::auth {

// The metadata key that carries the token, and the scheme in front of it.
inline constexpr char kAuthorizationKey[] = "authorization";
inline constexpr char kBearerPrefix[] = "Bearer ";

// Tokens must be at least this long, so that guessing one is not an option.
inline constexpr size_t kMinTokenBytes = 16;
inline constexpr size_t kMaxTokenBytes = 4096;

class SharedSecret {
 public:
  // Reads the token from `path`: the file's contents without trailing whitespace. Errors:
  // NOT_FOUND / PERMISSION_DENIED (errno of open), FAILED_PRECONDITION if it is not a regular
  // file or group or others may read or write it, INVALID_ARGUMENT as for FromToken.
  static absl::StatusOr<SharedSecret> FromFile(const std::string& path);

  // INVALID_ARGUMENT unless `token` is kMinTokenBytes..kMaxTokenBytes of printable ASCII without
  // spaces (so that it survives metadata flags and files unchanged).
  static absl::StatusOr<SharedSecret> FromToken(std::string token);

  // `authorization`: the call's first `authorization` metadata value, or null if it has none.
  // OK if it is "Bearer <the token>"; UNAUTHENTICATED otherwise. The time taken depends on the
  // length of what was presented, never on the token's contents or length.
  absl::Status Check(const std::string* authorization) const;

 private:
  explicit SharedSecret(std::string token) : token_(std::move(token)) {}

  std::string token_;
};

// The metadata value that carries `token`: "Bearer <token>".
std::string AuthorizationValue(absl::string_view token);

// The token in `path`, checked as SharedSecret::FromFile does: for clients, which send it.
absl::StatusOr<std::string> ReadTokenFile(const std::string& path);

// Whether `presented` equals `secret`, taking time that depends only on presented.size().
// `secret` must not be empty.
bool ConstantTimeEquals(absl::string_view secret, absl::string_view presented);

}  // namespace framerpc::auth

#endif  // FRAMERPC_SERVICES_AUTH_SHARED_SECRET_H_

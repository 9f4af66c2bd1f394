#include "services/auth/shared_secret.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/scoped_fd.h"

namespace framerpc::auth {
namespace {

absl::StatusOr<std::string> ReadSmallFile(int fd, const std::string& path) {
  std::string contents;
  char buf[1024];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) return contents;
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::ErrnoToStatus(errno, absl::StrCat("reading ", path));
    }
    contents.append(buf, static_cast<size_t>(n));
    // Whitespace after the token is allowed; anything this long is not a token file.
    if (contents.size() > kMaxTokenBytes + 64) {
      return absl::InvalidArgumentError(absl::StrCat(path, " is too long for a token file"));
    }
  }
}

}  // namespace

absl::StatusOr<SharedSecret> SharedSecret::FromFile(const std::string& path) {
  absl::StatusOr<std::string> token = ReadTokenFile(path);
  if (!token.ok()) return token.status();
  return SharedSecret(*std::move(token));
}

absl::StatusOr<std::string> ReadTokenFile(const std::string& path) {
  ScopedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd.valid()) return absl::ErrnoToStatus(errno, absl::StrCat("cannot open ", path));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return absl::ErrnoToStatus(errno, absl::StrCat("stat ", path));
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(path, " is not a regular file"));
  }
  if ((st.st_mode & 077) != 0) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s is accessible to group or others (mode %04o); chmod 600 it", path,
        static_cast<unsigned>(st.st_mode & 07777)));
  }
  absl::StatusOr<std::string> contents = ReadSmallFile(fd.get(), path);
  if (!contents.ok()) return contents.status();
  std::string token(absl::StripTrailingAsciiWhitespace(*contents));
  absl::StatusOr<SharedSecret> secret = SharedSecret::FromToken(token);
  if (!secret.ok()) {
    return absl::Status(secret.status().code(),
                        absl::StrCat(path, ": ", secret.status().message()));
  }
  return token;
}

absl::StatusOr<SharedSecret> SharedSecret::FromToken(std::string token) {
  if (token.size() < kMinTokenBytes || token.size() > kMaxTokenBytes) {
    return absl::InvalidArgumentError(absl::StrCat("a token must be ", kMinTokenBytes, " to ",
                                                   kMaxTokenBytes, " bytes long"));
  }
  for (const char c : token) {
    if (c <= ' ' || c > '~') {
      return absl::InvalidArgumentError(
          "a token must be printable ASCII without spaces (e.g. base64 of random bytes)");
    }
  }
  return SharedSecret(std::move(token));
}

absl::Status SharedSecret::Check(const std::string* authorization) const {
  if (authorization == nullptr) {
    return absl::UnauthenticatedError(
        absl::StrCat("this service requires '", kAuthorizationKey, ": ", kBearerPrefix,
                     "<token>' metadata"));
  }
  if (!absl::StartsWith(*authorization, kBearerPrefix)) {
    return absl::UnauthenticatedError(absl::StrCat("the ", kAuthorizationKey,
                                                   " metadata must be '", kBearerPrefix,
                                                   "<token>'"));
  }
  const absl::string_view presented =
      absl::string_view(*authorization).substr(sizeof(kBearerPrefix) - 1);
  if (!ConstantTimeEquals(token_, presented)) {
    return absl::UnauthenticatedError("wrong token");
  }
  return absl::OkStatus();
}

std::string AuthorizationValue(absl::string_view token) {
  return absl::StrCat(kBearerPrefix, token);
}

bool ConstantTimeEquals(absl::string_view secret, absl::string_view presented) {
  // One pass over what was presented, reading the secret cyclically: no branch or early exit
  // depends on either's contents, and the secret's length shows only in the final comparison.
  unsigned char diff = 0;
  size_t s = 0;
  for (const char c : presented) {
    diff |= static_cast<unsigned char>(c ^ secret[s]);
    s = (s + 1 == secret.size()) ? 0 : s + 1;
  }
  // The compiler may not turn the accumulated difference into an early exit: it cannot see
  // through the empty asm.
  asm volatile("" : "+r"(diff));
  diff |= static_cast<unsigned char>(presented.size() != secret.size());
  return diff == 0;
}

}  // namespace framerpc::auth

#include "transport/tls/tls_options.h"

#include "absl/strings/str_cat.h"

namespace framerpc {

absl::StatusOr<ClientAuth> ParseClientAuth(absl::string_view text) {
  if (text == "none") return ClientAuth::kNone;
  if (text == "optional") return ClientAuth::kOptional;
  if (text == "require") return ClientAuth::kRequire;
  return absl::InvalidArgumentError(
      absl::StrCat("client auth '", text, "': expected none, optional or require"));
}

const char* ClientAuthName(ClientAuth auth) {
  switch (auth) {
    case ClientAuth::kNone:
      return "none";
    case ClientAuth::kOptional:
      return "optional";
    case ClientAuth::kRequire:
      return "require";
  }
  return "?";
}

absl::StatusOr<TlsVersion> ParseTlsVersion(absl::string_view text) {
  if (text == "1.2") return TlsVersion::kTls12;
  if (text == "1.3") return TlsVersion::kTls13;
  return absl::InvalidArgumentError(absl::StrCat("TLS version '", text, "': expected 1.2 or 1.3"));
}

const char* TlsVersionName(TlsVersion version) {
  return version == TlsVersion::kTls12 ? "1.2" : "1.3";
}

}  // namespace framerpc

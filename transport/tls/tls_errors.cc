#include "transport/tls/tls_errors.h"

#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace framerpc {
namespace {

// What a verification result means for whoever reads the message.
const char* VerifyHint(long result) {
  switch (result) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
      return " (unknown CA: the certificate is not signed by a trusted CA)";
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return " (expired certificate)";
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return " (certificate not yet valid)";
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      return " (name mismatch: the certificate is not for the name verified)";
    default:
      return "";
  }
}

}  // namespace

std::string DrainTlsErrors(const SSL* ssl) {
  std::string text;
  unsigned long err;
  while ((err = ERR_get_error()) != 0) {
    const char* reason = ERR_reason_error_string(err);
    std::string item = reason != nullptr ? reason : absl::StrCat("error ", err);
    if (ERR_GET_LIB(err) == ERR_LIB_SSL &&
        ERR_GET_REASON(err) == SSL_R_CERTIFICATE_VERIFY_FAILED && ssl != nullptr) {
      const long result = SSL_get_verify_result(ssl);
      absl::StrAppend(&item, ": ", X509_verify_cert_error_string(result), VerifyHint(result));
    }
    if (ERR_GET_LIB(err) == ERR_LIB_SSL && (ERR_GET_REASON(err) == SSL_R_WRONG_VERSION_NUMBER ||
                                            ERR_GET_REASON(err) == SSL_R_PACKET_LENGTH_TOO_LONG)) {
      absl::StrAppend(&item, " (the peer does not speak TLS here: a plaintext port?)");
    }
    if (text.find(item) != std::string::npos) continue;
    absl::StrAppend(&text, text.empty() ? "" : "; ", item);
  }
  return text;
}

absl::Status TlsIoError(const SSL* ssl, int ssl_error, absl::string_view what) {
  const int saved_errno = errno;
  std::string cause = DrainTlsErrors(ssl);
  if (cause.empty()) {
    if (ssl_error == SSL_ERROR_ZERO_RETURN) {
      cause = "the peer closed the TLS session";
    } else if (ssl_error == SSL_ERROR_SYSCALL) {
      cause = saved_errno == 0 ? "the peer closed the connection"
                               : absl::StrCat("socket error: ", std::strerror(saved_errno));
    } else {
      cause = absl::StrCat("SSL error ", ssl_error);
    }
  }
  return absl::UnavailableError(absl::StrCat(what, ": ", cause));
}

absl::Status TlsConfigError(absl::string_view what) {
  std::string cause = DrainTlsErrors(nullptr);
  return absl::InvalidArgumentError(
      cause.empty() ? std::string(what) : absl::StrCat(what, ": ", cause));
}

}  // namespace framerpc

// Turning OpenSSL's error state into messages that name the cause. Internal to transport/tls.
//
// Thread safety: OpenSSL's error queue is per thread; these read the calling thread's.
#ifndef FRAMERPC_TRANSPORT_TLS_TLS_ERRORS_H_
#define FRAMERPC_TRANSPORT_TLS_TLS_ERRORS_H_

#include <string>

#include <openssl/ssl.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace framerpc {

// Empties the thread's error queue into "reason; reason" (OpenSSL's reason strings), with the
// certificate verification result of `ssl` (may be null) spelled out when verification failed:
// "certificate verify failed: certificate has expired". Empty if there was nothing.
std::string DrainTlsErrors(const SSL* ssl);

// The error of a failed SSL_do_handshake/SSL_read/SSL_write that returned `ret`, whose
// SSL_get_error() was `ssl_error` (neither WANT_READ nor WANT_WRITE): UNAVAILABLE with
// "`what`: <cause>". Drains the error queue.
absl::Status TlsIoError(const SSL* ssl, int ssl_error, absl::string_view what);

// INVALID_ARGUMENT "`what`: <queue>", for configuration (files, keys). Drains the error queue.
absl::Status TlsConfigError(absl::string_view what);

}  // namespace framerpc

#endif  // FRAMERPC_TRANSPORT_TLS_TLS_ERRORS_H_

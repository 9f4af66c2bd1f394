// A BIO over a non-blocking socket that never raises SIGPIPE: OpenSSL's own socket BIO writes
// with write(2), and a peer gone away would kill whatever process this library lives in. Reads
// with recv(2), writes with send(2, MSG_NOSIGNAL). Internal to transport/tls.
#ifndef FRAMERPC_TRANSPORT_TLS_SOCKET_BIO_H_
#define FRAMERPC_TRANSPORT_TLS_SOCKET_BIO_H_

#include <openssl/bio.h>

namespace framerpc {

// A new BIO on `fd` (not owned: closing it is the caller's business); null if out of memory.
BIO* NewNoSigpipeSocketBio(int fd);

}  // namespace framerpc

#endif  // FRAMERPC_TRANSPORT_TLS_SOCKET_BIO_H_

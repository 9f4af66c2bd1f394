// A BIO over a non-blocking socket, for TlsSession. Internal to transport/tls.
//
// - It never raises SIGPIPE: OpenSSL's own socket BIO writes with write(2), and a peer gone away
//   would kill whatever process this library lives in. It reads with recv(2) and writes with
//   send(2, MSG_NOSIGNAL).
// - Corking: between SocketBioCork and SocketBioUncork, records are gathered in user space (up to
//   kMaxGatherBytes) rather than each sent on its own, so that a batch of frames that fills several
//   records still leaves in one send(2), as the plaintext path's writev does. What the socket does
//   not take at Uncork stays gathered: it goes before anything written later, and
//   SocketBioHasUnsent says it is there.
// - Reading: one recv(2) takes up to kSocketBioInputBytes into a buffer of the BIO's, from which
//   OpenSSL (with read-ahead off) takes each record's header and then exactly its body. OpenSSL's
//   own read-ahead would recv into its buffer and, before each record after the first of a
//   batch, move every byte left behind it to the buffer's front (ssl3_read_n's alignment
//   memmove): 1.5 copies per byte with 64 KiB batches of 16 KiB records. Here each byte is copied
//   once, and a batch takes one recv(2). With no 64 KiB buffer held, a recv goes through a
//   stack spill, and what it brought is kept in a 1 KiB buffer when it fits (a small call's
//   reply; the buffer is kept for the next, so a call allocates nothing), in an allocation of its
//   own size when it is at most a record's worth (16 KiB; freed once drained), else in a new
//   64 KiB buffer: no 64 KiB is allocated and faulted in per call. That buffer is kept while
//   recvs bring more than a record's worth (a bulk spell, and while the reader waits for the
//   writer), and freed once drained after a smaller one. At the end of the stream, and by
//   SocketBioReleaseIdle (a connection found idle), whatever input buffer is drained is freed.
// - Over a socket left in blocking mode (the caller-driven blocking calls of rpc/sync_calls.h), it
//   blocks as the socket does, unless SocketBioSetDontWait: then every recv/send of it is
//   MSG_DONTWAIT, for a read or write that must not block (serving an idle connection).
//
// Thread safety: none; the owning session's.
#ifndef FRAMERPC_TRANSPORT_TLS_SOCKET_BIO_H_
#define FRAMERPC_TRANSPORT_TLS_SOCKET_BIO_H_

#include <openssl/bio.h>

#include <cstddef>

namespace framerpc {

inline constexpr size_t kMaxGatherBytes = 256 * 1024;
inline constexpr size_t kSocketBioInputBytes = 64 * 1024;

// A new BIO on `fd` (not owned: closing it is the caller's business); null if out of memory.
BIO* NewNoSigpipeSocketBio(int fd);

void SocketBioCork(BIO* bio);
// Stops gathering and sends what was gathered: 1 if all of it left, 0 if the socket is full (the
// rest stays), -1 on a socket error (errno says which).
int SocketBioUncork(BIO* bio);
bool SocketBioHasUnsent(BIO* bio);
// Frees the input buffer if drained and the gathered records' room if all sent: for a connection
// found idle.
void SocketBioReleaseIdle(BIO* bio);
// Received bytes not yet handed to OpenSSL: the socket may never become readable for them.
bool SocketBioHasInput(BIO* bio);
// Bytes of buffer the BIO holds now (its input buffer and gathered records' capacity).
size_t SocketBioBytesHeld(BIO* bio);
// From now on (until called again with false) no recv/send of `bio` blocks, whatever the socket's
// mode.
void SocketBioSetDontWait(BIO* bio, bool on);

}  // namespace framerpc

#endif  // FRAMERPC_TRANSPORT_TLS_SOCKET_BIO_H_

// RecordLayer: what a Connection (transport/connection.h) reads and writes through instead of the
// raw socket when the bytes are protected, e.g. by TLS (transport/tls/tls_session.h). The
// Connection keeps owning the socket and its readiness; the layer turns plaintext into records on
// that socket and back. The interface keeps the event loop free of any TLS library.
//
// A layer may also be the transport itself (OwnsTransport()): an in-memory pipe
// (transport/memory_pipe.h), whose Connection's fd only signals readiness and carries no bytes.
//
// Thread safety: none. The Connection calls it under its record mutex (RecordState::mu in
// Connection), from one thread at a time: the write queue's owner to write, the loop to read.
#ifndef FRAMERPC_TRANSPORT_RECORD_LAYER_H_
#define FRAMERPC_TRANSPORT_RECORD_LAYER_H_

#include <cstddef>

#include "absl/status/status.h"

namespace framerpc {

// The outcome of one Read or Write.
struct RecordIo {
  enum class Kind {
    kOk,         // `bytes` plaintext bytes were read or taken (never 0)
    kWantRead,   // nothing now: call again once the socket is readable
    kWantWrite,  // nothing now: call again once the socket is writable
    kClosed,     // the peer ended the session cleanly (a read saw close_notify)
    kError,      // `error` says why; the session is unusable
  };
  Kind kind = Kind::kOk;
  size_t bytes = 0;
  absl::Status error;
};

class RecordLayer {
 public:
  // The largest plaintext one record carries: a read into at least this much room never leaves
  // part of a record behind for want of room.
  static constexpr size_t kMaxRecordBytes = 16384;

  virtual ~RecordLayer() = default;

  // Up to `size` bytes of plaintext into `data`.
  virtual RecordIo Read(char* data, size_t size) = 0;
  // Takes up to `size` bytes of `data`. After kWantWrite the next Write must offer the same bytes
  // again, first (from any address, and more may follow them).
  virtual RecordIo Write(const char* data, size_t size) = 0;
  // Plaintext already decrypted and not yet read: the socket may never become readable for it.
  virtual bool HasBufferedInput() const = 0;
  // Tells the peer that no more data follows (TLS close_notify), without blocking: best effort.
  virtual void SendCloseNotify() = 0;

  // Batching: between Cork() and Uncork(), written records are gathered rather than each sent,
  // and Uncork() sends them together. Uncork() is kOk when all of it left, kWantWrite when the
  // socket is full (the rest is kept, sent first by the next Uncork() or Write()), kError
  // otherwise. HasUnsentOutput(): records taken by Write() that the socket has not yet taken.
  virtual void Cork() {}
  virtual RecordIo Uncork() { return RecordIo{}; }
  virtual bool HasUnsentOutput() const { return false; }

  // The bytes travel through the layer alone, not through the Connection's fd (which then only
  // signals readiness): HasBufferedInput() says all there is left to read, and the socket calls
  // (shutdown(2), FIONREAD) are skipped.
  virtual bool OwnsTransport() const { return false; }
  // The Connection has closed. A layer that owns its transport tells the peer, as closing a
  // socket would: what was written still arrives, then the end; later writes to it fail.
  virtual void Close() {}
  // The Connection was found idle (Connection::ReleaseIdleBuffers): give back the buffers that
  // hold nothing now; they are taken again when bytes come or go.
  virtual void ReleaseIdleBuffers() {}
};

}  // namespace framerpc

#endif  // FRAMERPC_TRANSPORT_RECORD_LAYER_H_

// MemoryPipe: a duplex byte stream between two Connections (transport/connection.h) of one
// process, held in memory: no socket, no port, no file. Each end is a RecordLayer that owns its
// transport, and an eventfd the end's Connection watches for readiness in place of a socket.
// What one end writes the other reads, in order; closing an end (its Connection closing, or the
// layer being destroyed) lets the other read what was written and then the end, and fails its
// later writes with UNAVAILABLE, as a closed socket would.
//
// It knows nothing of frames or RPC: rpc/in_process_connector.h makes server connections of it.
//
// Bounds: a write is never refused for want of room (there is no socket buffer to fill), so what
// one end holds unread is bounded only by what its peer sends and by how soon it reads. Both ends
// belong to this process, and the RPC layer's own bounds (calls in flight, stream windows)
// bound it; but a reader that stops reading does not push back on the writer's write queue.
//
// Lifetime: the two ends share the pipe's state (shared ownership: either end may go first); each
// end's eventfd lives until both ends are gone, so a Connection's own duplicate of it never
// refers to a reused fd number. Thread safety: each layer is called by its Connection under the
// Connection's record mutex (RecordLayer's rule); the two ends may be used from different threads
// at once (the shared state has a mutex of its own).
#ifndef FRAMERPC_TRANSPORT_MEMORY_PIPE_H_
#define FRAMERPC_TRANSPORT_MEMORY_PIPE_H_

#include <memory>
#include <utility>

#include "absl/status/statusor.h"
#include "base/scoped_fd.h"
#include "transport/record_layer.h"

namespace framerpc {

// One end: give `readiness` and `layer` to a Connection (its fd, then set_record_layer).
// `readiness` is readable while the layer has input or the end to report.
struct MemoryPipeEnd {
  ScopedFd readiness;
  std::unique_ptr<RecordLayer> layer;
};

// A connected pair of ends. UNAVAILABLE when an eventfd cannot be made (the fd limit).
absl::StatusOr<std::pair<MemoryPipeEnd, MemoryPipeEnd>> NewMemoryPipe();

}  // namespace framerpc

#endif  // FRAMERPC_TRANSPORT_MEMORY_PIPE_H_

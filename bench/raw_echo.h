// The floor: a raw TCP echo over 127.0.0.1 with blocking sockets and TCP_NODELAY, measured in the
// same process as the framerpc rows. Each message is a 16-byte header (the size of a framerpc
// frame header, carrying the body length) plus the payload, so the bytes on the wire roughly
// match a framed echo. The server side reads whatever is available and writes back every
// complete message in one write; there is no event loop and no thread hand-off beyond the one
// the kernel does between the two ends of the socket.
//
// Each function blocks for about `duration`, using sockets and threads of its own that are gone
// when it returns. Thread-safe.
#ifndef FRAMERPC_BENCH_RAW_ECHO_H_
#define FRAMERPC_BENCH_RAW_ECHO_H_

#include <cstddef>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bench/stats.h"

namespace framerpc::bench {

// How both ends wait for bytes: asleep in a blocking read (kBlock), or by polling the socket
// without sleeping (kSpin), the floor for a transport that busy-polls. kSpin keeps one CPU busy
// per client and per server thread.
enum class RawWait { kBlock, kSpin };

// One connection, one message at a time: the client writes a message and reads the echo before
// writing the next. Latency is per round trip. `gap` > 0 paces the calls: each starts `gap` after
// the one before started (a call at a low rate, which finds both ends asleep).
absl::StatusOr<Samples> RunRawPingPong(size_t payload_bytes, absl::Duration duration,
                                       RawWait wait = RawWait::kBlock,
                                       absl::Duration gap = absl::ZeroDuration());

// `connections` connections, each with `inflight` messages outstanding: each connection's client
// thread writes a new message for every echo it reads. Latency is from a message's write to its
// echo's read.
absl::StatusOr<Samples> RunRawPipelined(size_t payload_bytes, int connections, int inflight,
                                        absl::Duration duration, RawWait wait = RawWait::kBlock);

}  // namespace framerpc::bench

#endif  // FRAMERPC_BENCH_RAW_ECHO_H_

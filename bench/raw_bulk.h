// Raw loopback TCP transfers: the floor that the streaming and file benchmarks measure framerpc
// against in the same run. No framing, no RPC: a sender thread and a receiver on one connection.
//
// Thread safety: each call makes its own connection and threads; calls are independent.
#ifndef FRAMERPC_BENCH_RAW_BULK_H_
#define FRAMERPC_BENCH_RAW_BULK_H_

#include <cstddef>
#include <functional>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace framerpc::bench {

// Opens a fresh loopback TCP connection, runs `send` on a new thread with one end and `receive`
// on the calling thread with the other, and returns the wall time until both have returned. The
// sender's end is closed for writing after `send` returns, so the receiver sees EOF.
absl::StatusOr<absl::Duration> TimeRawTransfer(const std::function<absl::Status(int fd)>& send,
                                               const std::function<absl::Status(int fd)>& receive);

// MiB/s of `total` bytes written in `chunk`-byte send()s and read with `chunk`-byte recv()s.
absl::StatusOr<double> RawBulk(size_t total, size_t chunk);

// MiB/s for `bytes` moved in `elapsed`.
double MiBPerSecond(size_t bytes, absl::Duration elapsed);

}  // namespace framerpc::bench

#endif  // FRAMERPC_BENCH_RAW_BULK_H_

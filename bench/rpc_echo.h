// framerpc echo runs against a server that hosts framerpc::echo::EchoServiceImpl. The payload
// travels as the call's attachment (EchoService.Bytes), or as the text of EchoService.Say.
//
// Channels are not owned; they must outlive the call. Each function blocks for about `duration`.
// Thread-safe as the channels are, but runs sharing a channel measure each other.
#ifndef FRAMERPC_BENCH_RPC_ECHO_H_
#define FRAMERPC_BENCH_RPC_ECHO_H_

#include <cstddef>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bench/stats.h"
#include "rpc/channel.h"

namespace framerpc::bench {

// One call at a time through the blocking stub, from the calling thread: what a simple caller
// does. Latency covers building the context, the call and checking the reply. `gap` > 0 paces
// the calls: each starts `gap` after the one before started.
absl::StatusOr<Samples> RunRpcBlocking(Channel* channel, size_t payload_bytes,
                                       absl::Duration duration,
                                       absl::Duration gap = absl::ZeroDuration());

// As RunRpcBlocking, with EchoService.Say and a `payload_bytes` text.
absl::StatusOr<Samples> RunRpcSayBlocking(Channel* channel, size_t payload_bytes,
                                          absl::Duration duration);

// `inflight` asynchronous calls outstanding on each channel: each completion callback (on the
// channel's I/O thread) starts the next call. With one channel and inflight = 1 this is one call
// at a time without the caller-thread hand-off of the blocking stub.
absl::StatusOr<Samples> RunRpcAsync(const std::vector<Channel*>& channels, size_t payload_bytes,
                                    int inflight, absl::Duration duration);

}  // namespace framerpc::bench

#endif  // FRAMERPC_BENCH_RPC_ECHO_H_

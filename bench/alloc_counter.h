// Counts the heap allocations a benchmark binary makes through operator new (every new and
// new[] form, which std::string, std::function, protobuf and make_shared all use). Linking
// //bench:alloc_counter replaces the global operator new and delete of the whole binary; only
// benchmarks link it. malloc() called directly (C code, the kernel-facing parts of libc) is not
// counted.
//
// Thread-safe: one relaxed atomic counter, read as a difference around a measured window.
#ifndef FRAMERPC_BENCH_ALLOC_COUNTER_H_
#define FRAMERPC_BENCH_ALLOC_COUNTER_H_

#include <cstdint>

namespace framerpc::bench {

// Allocations through operator new since the process started (any thread).
uint64_t HeapAllocations();

}  // namespace framerpc::bench

#endif  // FRAMERPC_BENCH_ALLOC_COUNTER_H_

// CPU affinity for the whole process, for benchmark rows that must not depend on where the
// scheduler happens to put their threads.
//
// Why: a one-at-a-time echo is serial (one of its threads runs at a time), and on a VM the cost
// of each hand-off depends on placement. With the threads on one vCPU a wake-up is a plain context
// switch; with them spread over two, each wake-up of an idle vCPU goes through the
// hypervisor (tens of us), which measures the VM rather than the code. Pinning makes the rows
// comparable from run to run.
#ifndef FRAMERPC_BENCH_AFFINITY_H_
#define FRAMERPC_BENCH_AFFINITY_H_

#include <sched.h>

#include "absl/status/status.h"

namespace framerpc::bench {

// The calling thread's current mask: take it at start-up, before any pinning.
cpu_set_t CurrentAffinity();

// A mask of the single CPU `cpu`.
cpu_set_t SingleCpu(int cpu);

// Applies `mask` to every thread of the process that exists now (threads started later inherit
// their creator's mask). Threads that exit meanwhile are skipped. Thread-safe, but concurrent
// calls race over which mask wins.
absl::Status SetProcessAffinity(const cpu_set_t& mask);

}  // namespace framerpc::bench

#endif  // FRAMERPC_BENCH_AFFINITY_H_

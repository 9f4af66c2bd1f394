// What /proc says about another process, for benchmarks that watch a server from outside:
// its resident memory, its open descriptors, its sockets by state, and its CPU time.
//
// Each function reads /proc once and returns what it found then (0 or empty when the process or
// the field is gone). Thread-safe: no state.
#ifndef FRAMERPC_BENCH_PROC_STATS_H_
#define FRAMERPC_BENCH_PROC_STATS_H_

#include <sys/types.h>

#include <cstddef>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace framerpc::bench {

// A "kB" field of /proc/PID/status, such as "VmRSS:" (resident now) or "VmHWM:" (the peak), in
// bytes.
size_t ProcStatusBytes(pid_t pid, absl::string_view field);

// Resets VmHWM to the current RSS (writes 5 to /proc/PID/clear_refs).
void ResetPeakRss(pid_t pid);

// Entries in /proc/PID/fd: every descriptor the process holds.
int OpenFds(pid_t pid);

// The process's TCP (IPv4 and IPv6) and Unix stream sockets by state: listening, and
// connections (TCP: any other state, established or closing; Unix: connected).
struct Sockets {
  int listening = 0;
  int connections = 0;
};
Sockets SocketsOf(pid_t pid);

// CPU time the process has used so far, user and system, all threads (/proc/PID/stat's utime and
// stime: clock-tick resolution, 10 ms here). Zero when the process is gone.
absl::Duration ProcessCpu(pid_t pid);

}  // namespace framerpc::bench

#endif  // FRAMERPC_BENCH_PROC_STATS_H_

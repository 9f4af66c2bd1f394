// jemalloc's options for the binaries that link //base:server_malloc, read by jemalloc when it
// starts (before main). Why jemalloc, and these figures, in docs/benchmarks.md (issue 18.1):
//  - glibc trims a thread's heap with madvise as soon as more than about twice its mmap threshold
//    lies free at the top, so a server echoing 1 MiB bodies gave its pages back and faulted them
//    in again on every call (740 page faults and one madvise per call). jemalloc keeps freed
//    pages mapped for a while and reuses them.
//  - background_thread: a thread of jemalloc's purges what has stayed unused for
//    dirty_decay_ms, so an idle server gives memory back without waiting for its next
//    allocation; muzzy_decay_ms:0 returns it to the system at once (MADV_DONTNEED) rather than
//    lazily (MADV_FREE), so that RSS shows it.
//  - Allocations of 8 MiB and more (oversize_threshold, the default) have an arena of their own
//    that keeps nothing: a burst of large frames is given back as soon as they are freed.

// NOLINTNEXTLINE: the name and type are jemalloc's.
extern "C" const char* malloc_conf;
const char* malloc_conf = "background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0";

// ThreadScratch<T, Policy>: a T borrowed, for one scope, from one kept per thread, so that a hot
// path that builds a short-lived object (a request frame, a decoded frame) reuses the memory the
// last one grew instead of allocating it on every call. Policy::Reset(T*) prepares the borrowed
// value; when the scope ends the value goes back to the thread's cache if Policy::Keep(value)
// (so a burst of large ones does not pin memory), else it is destroyed. Nesting is safe: an inner
// ThreadScratch of the same type on the same thread finds the cache empty (moved from) and
// starts from that.
//
// ScratchString: a std::string that starts empty and is kept up to 64 KiB of capacity.
//
// Not thread-safe, and must be destroyed on the thread that made it (it is a scope guard).
#ifndef FRAMERPC_BASE_SCRATCH_STRING_H_
#define FRAMERPC_BASE_SCRATCH_STRING_H_

#include <cstddef>
#include <string>
#include <utility>

namespace framerpc {

template <typename T, typename Policy>
class ThreadScratch {
 public:
  ThreadScratch() : value_(std::move(Cache())) { Policy::Reset(&value_); }
  ~ThreadScratch() {
    if (Policy::Keep(value_)) Cache() = std::move(value_);
  }
  ThreadScratch(const ThreadScratch&) = delete;
  ThreadScratch& operator=(const ThreadScratch&) = delete;

  T* get() { return &value_; }
  T& operator*() { return value_; }

 private:
  static T& Cache() {
    thread_local T cache;
    return cache;
  }

  T value_;
};

struct ScratchStringPolicy {
  static constexpr size_t kKeepBytes = 64 << 10;
  static void Reset(std::string* value) { value->clear(); }
  static bool Keep(const std::string& value) { return value.capacity() <= kKeepBytes; }
};

using ScratchString = ThreadScratch<std::string, ScratchStringPolicy>;

}  // namespace framerpc

#endif  // FRAMERPC_BASE_SCRATCH_STRING_H_

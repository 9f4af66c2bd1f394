// ScratchString: a std::string borrowed, for one scope, from one kept per thread, so that a hot
// path that builds a short-lived buffer (a request frame, a reply head) does not allocate it on
// every call. The string starts empty; when the scope ends it goes back to the thread's cache if
// its capacity is at most `kKeepBytes` (a burst of large frames does not pin memory), else it is
// freed. Nesting is safe: an inner ScratchString on the same thread finds the cache empty and
// starts from a fresh string.
//
// Not thread-safe, and must be destroyed on the thread that made it (it is a scope guard).
#ifndef FRAMERPC_BASE_SCRATCH_STRING_H_
#define FRAMERPC_BASE_SCRATCH_STRING_H_

#include <cstddef>
#include <string>
#include <utility>

namespace framerpc {

class ScratchString {
 public:
  static constexpr size_t kKeepBytes = 64 << 10;

  ScratchString() : value_(std::move(Cache())) { value_.clear(); }
  ~ScratchString() {
    if (value_.capacity() <= kKeepBytes) Cache() = std::move(value_);
  }
  ScratchString(const ScratchString&) = delete;
  ScratchString& operator=(const ScratchString&) = delete;

  std::string* get() { return &value_; }
  std::string& operator*() { return value_; }

 private:
  static std::string& Cache() {
    thread_local std::string cache;
    return cache;
  }

  std::string value_;
};

}  // namespace framerpc

#endif  // FRAMERPC_BASE_SCRATCH_STRING_H_

// SpareStrings: a few small string buffers kept per thread, handed from code that is done with a
// string it owned (a frame head once written) to code about to build one (the next reply's
// head), so that a buffer passed on by value (std::string through a queue) is reused instead of
// freed and allocated again on every call. ScratchString (base/scratch_string.h) covers a
// buffer used within one scope; this covers one whose owner changes.
//
// Only buffers with a heap allocation (beyond the short-string size) and of at most
// kKeepCapacity bytes are kept, at most kSlots per thread: what a thread keeps is bounded, and a
// burst of large strings is freed as before. Buffers kept by a thread are freed when it exits.
//
// Thread-safe in the sense that each thread has its own spares; a string taken on one thread may
// be given back on another.
#ifndef FRAMERPC_BASE_SPARE_STRINGS_H_
#define FRAMERPC_BASE_SPARE_STRINGS_H_

#include <cstddef>
#include <string>

namespace framerpc {

class SpareStrings {
 public:
  static constexpr size_t kKeepCapacity = 1024;
  static constexpr int kSlots = 8;

  // An empty string; with the buffer of one given back on this thread, if there is one.
  static std::string Take();
  // Keeps `value`'s buffer for this thread's Take() when it is worth keeping and there is room;
  // frees it otherwise.
  static void Give(std::string value);
  // How many buffers this thread keeps now (for tests).
  static int KeptByThisThread();
};

}  // namespace framerpc

#endif  // FRAMERPC_BASE_SPARE_STRINGS_H_

// Linked (alwayslink) into the binaries that use Debian's gRPC: that library and Debian's abseil
// are not built with ThreadSanitizer, which therefore cannot see their locks and reports their
// internal state as racy. Under --config=tsan, reports whose stacks lie in those libraries are
// suppressed, so that what remains is about our code. Compiles to nothing otherwise.
#if defined(__SANITIZE_THREAD__)
extern "C" const char* __tsan_default_suppressions() {
  return "race:libabsl_*.so*\n"
         "race:libgrpc*.so*\n"
         "race:libgpr.so*\n";
}
#endif

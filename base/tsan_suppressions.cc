// Linked (alwayslink) into the binaries that use Debian's gRPC: that library, Debian's abseil and
// the OpenSSL gRPC uses are not built with ThreadSanitizer, which therefore cannot see their locks
// and reports their internal state as racy. Under --config=tsan, reports whose stacks lie in those libraries are
// suppressed, so that what remains is about our code. Compiles to nothing otherwise.
#if defined(__SANITIZE_THREAD__)
extern "C" const char* __tsan_default_suppressions() {
  return "race:libabsl_*.so*\n"
         "race:libgrpc*.so*\n"
         "race:libgpr.so*\n"
         // gRPC drives Debian's OpenSSL (not instrumented either) on its own threads, under its
         // own synchronisation; only binaries that link gRPC get these, so that framerpc's own
         // TLS code (transport/tls, tests:tls_test) stays checked.
         "race:libssl.so*\n"
         "race:libcrypto.so*\n";
}
#endif

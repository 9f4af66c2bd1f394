// The AES-GCM speed of one core through OpenSSL's EVP API, as TLS 1.3 uses it: a fresh nonce,
// one 16 KiB record (TLS's largest) and a tag at a time. The floor a TLS stream is measured
// against in the same run (what `openssl speed -evp aes-128-gcm` prints, per record).
#ifndef FRAMERPC_BENCH_AES_GCM_SPEED_H_
#define FRAMERPC_BENCH_AES_GCM_SPEED_H_

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace framerpc::bench {

// MiB encrypted per second of the calling thread's CPU time (as `openssl speed` counts), so that
// other load on the machine does not lower it, run for about `duration` of that CPU time.
// `key_bits`: 128 (the floor) or 256 (TLS_AES_256_GCM_SHA384, which OpenSSL 3 picks first
// for TLS 1.3 unless told otherwise).
absl::StatusOr<double> AesGcmMiBPerSecond(int key_bits, absl::Duration duration);

}  // namespace framerpc::bench

#endif  // FRAMERPC_BENCH_AES_GCM_SPEED_H_

#include "bench/aes_gcm_speed.h"

#include <openssl/evp.h>
#include <time.h>

#include <memory>
#include <string>

namespace framerpc::bench {
namespace {

absl::Duration ThreadCpuTime() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return absl::DurationFromTimespec(ts);
}

}  // namespace

absl::StatusOr<double> AesGcmMiBPerSecond(int key_bits, absl::Duration duration) {
  constexpr size_t kRecord = 16384;
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(),
                                                                      &EVP_CIPHER_CTX_free);
  unsigned char key[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  const EVP_CIPHER* cipher = key_bits == 256 ? EVP_aes_256_gcm() : EVP_aes_128_gcm();
  unsigned char iv[12] = {};
  if (ctx == nullptr || EVP_EncryptInit_ex(ctx.get(), cipher, nullptr, key, iv) != 1) {
    return absl::InternalError("EVP aes-gcm init failed");
  }
  const std::string in(kRecord, 'd');
  std::string out(kRecord + 16, '\0');
  unsigned char tag[16];
  size_t bytes = 0;
  uint64_t sequence = 0;
  const absl::Duration start = ThreadCpuTime();
  absl::Duration now = start;
  while (now - start < duration) {
    for (int i = 0; i < 64; ++i) {  // read the clock every 1 MiB
      ++sequence;
      for (int b = 0; b < 8; ++b) iv[4 + b] = static_cast<unsigned char>(sequence >> (8 * b));
      int len = 0;
      if (EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, nullptr, iv) != 1 ||
          EVP_EncryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                            reinterpret_cast<const unsigned char*>(in.data()),
                            static_cast<int>(in.size())) != 1 ||
          EVP_EncryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + len,
                              &len) != 1 ||
          EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, sizeof tag, tag) != 1) {
        return absl::InternalError("EVP aes-gcm encrypt failed");
      }
      bytes += kRecord;
    }
    now = ThreadCpuTime();
  }
  return bytes / (1024.0 * 1024.0) / absl::ToDoubleSeconds(now - start);
}

}  // namespace framerpc::bench

#include "services/file/temp_name.h"

#include <sys/random.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"

namespace framerpc::file {

std::string NewTempName() {
  static std::atomic<uint32_t> counter{0};
  uint32_t random = 0;
  if (::getrandom(&random, sizeof(random), GRND_NONBLOCK) != sizeof(random)) {
    random = static_cast<uint32_t>(::getpid());
  }
  return absl::StrFormat("%s%08x%08x", kTempNamePrefix, random,
                         counter.fetch_add(1, std::memory_order_relaxed));
}

bool IsTempName(absl::string_view name) { return absl::StartsWith(name, kTempNamePrefix); }

}  // namespace framerpc::file

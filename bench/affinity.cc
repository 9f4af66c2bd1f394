#include "bench/affinity.h"

#include <dirent.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace framerpc::bench {

cpu_set_t CurrentAffinity() {
  cpu_set_t mask;
  CPU_ZERO(&mask);
  if (::sched_getaffinity(0, sizeof(mask), &mask) != 0) {
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) CPU_SET(cpu, &mask);
  }
  return mask;
}

cpu_set_t SingleCpu(int cpu) {
  cpu_set_t mask;
  CPU_ZERO(&mask);
  CPU_SET(cpu, &mask);
  return mask;
}

absl::Status SetProcessAffinity(const cpu_set_t& mask) {
  DIR* dir = ::opendir("/proc/self/task");
  if (dir == nullptr) {
    return absl::InternalError(absl::StrCat("opendir /proc/self/task: ", std::strerror(errno)));
  }
  absl::Status status;
  while (const dirent* entry = ::readdir(dir)) {
    int tid = 0;
    if (!absl::SimpleAtoi(entry->d_name, &tid)) continue;  // "." and ".."
    if (::sched_setaffinity(tid, sizeof(mask), &mask) != 0 && errno != ESRCH && status.ok()) {
      status =
          absl::InternalError(absl::StrCat("sched_setaffinity(", tid, "): ", std::strerror(errno)));
    }
  }
  ::closedir(dir);
  return status;
}

}  // namespace framerpc::bench

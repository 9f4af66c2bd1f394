#include "base/parker.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>

namespace framerpc {

void Parker::Wait(uint32_t ticket) {
  // EAGAIN (the word moved on: woken already) and EINTR both return; the caller re-checks.
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word_), FUTEX_WAIT_PRIVATE, ticket, nullptr,
          nullptr, 0);
}

void Parker::Wake() {
  word_.fetch_add(1, std::memory_order_release);
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word_), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr,
          nullptr, 0);
}

}  // namespace framerpc

// Test helpers for peers that stall: a listener whose connects never complete, and a way to know
// that a thread is blocked in a given system call (a real event to wait for, instead of a sleep).
#ifndef FRAMERPC_TESTS_STALLED_PEER_H_
#define FRAMERPC_TESTS_STALLED_PEER_H_

#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <fstream>
#include <initializer_list>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "base/scoped_fd.h"
#include "transport/socket_address.h"
#include "transport/socket_ops.h"

namespace framerpc::test {

// A listener that never accepts, with its accept queue full: one connection completed into a
// backlog of 0. The kernel drops later SYNs, so a connect to it stays in SYN-SENT.
class FullListener {
 public:
  FullListener() {
    auto listener = Listen(*SocketAddress::Parse("127.0.0.1:0"), 0);
    EXPECT_TRUE(listener.ok()) << listener.status();
    listener_ = *std::move(listener);
    address_ = LocalAddress(listener_.get());
    auto filler = ConnectBlocking(address_);
    EXPECT_TRUE(filler.ok()) << filler.status();
    filler_ = *std::move(filler);
  }
  std::string address() const { return address_.ToString(); }

 private:
  ScopedFd listener_;
  SocketAddress address_;
  ScopedFd filler_;
};

inline pid_t CurrentTid() { return static_cast<pid_t>(::syscall(SYS_gettid)); }

// True once thread `tid` of this process is blocked in one of `syscalls` (/proc/.../syscall
// starts with the number of the system call a blocked thread is in). Waits up to 30 s.
inline bool WaitUntilBlockedIn(pid_t tid, std::initializer_list<long> syscalls) {
  const std::string path = absl::StrCat("/proc/self/task/", tid, "/syscall");
  const absl::Time until = absl::Now() + absl::Seconds(30);
  while (absl::Now() < until) {
    std::ifstream file(path);
    std::string first;
    file >> first;
    for (long number : syscalls) {
      if (first == std::to_string(number)) return true;
    }
    std::this_thread::yield();
  }
  return false;
}

inline bool WaitUntilBlockedInPoll(pid_t tid) {
#ifdef SYS_poll
  return WaitUntilBlockedIn(tid, {SYS_poll, SYS_ppoll});
#else
  return WaitUntilBlockedIn(tid, {SYS_ppoll});
#endif
}

}  // namespace framerpc::test

#endif  // FRAMERPC_TESTS_STALLED_PEER_H_

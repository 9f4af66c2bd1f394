// Parker: puts one thread to sleep until another wakes it, with one futex(2) call on each side.
// It carries only the wake-up: the condition the sleeper waits for is guarded by the caller's
// own mutex, and is checked again under it after every return from Wait().
//
// Protocol, with no lost wake-up:
//   sleeper, holding the mutex: finds the condition false, records that it sleeps (in state the
//     mutex guards), takes `uint32_t ticket = parker.Ticket()`, releases the mutex, calls
//     Wait(ticket), takes the mutex again and re-checks the condition;
//   waker, holding the mutex: makes the condition true and, if a sleeper is recorded, clears the
//     record; after releasing the mutex, calls Wake().
// A Wake() made after the ticket was taken either finds the sleeper in the kernel and wakes it,
// or makes its Wait(ticket) return at once. Wait() may also return spuriously.
//
// Why not std::condition_variable: glibc's pthread_cond_wait takes the mutex back after a
// wake-up marked as contended, so its unlock makes a futex call of its own: three calls per
// wake-up instead of two, on the path of every stream message a blocked reader is woken for.
//
// Thread safety: every method is thread-safe. Linux only. The object must outlive every Wait()
// and Wake() on it (a waker holds a reference to its owner while it calls Wake()).
#ifndef FRAMERPC_BASE_PARKER_H_
#define FRAMERPC_BASE_PARKER_H_

#include <atomic>
#include <cstdint>

namespace framerpc {

class Parker {
 public:
  Parker() = default;
  Parker(const Parker&) = delete;
  Parker& operator=(const Parker&) = delete;

  // The value Wait() sleeps on: taken while the condition is known false.
  uint32_t Ticket() const { return word_.load(std::memory_order_acquire); }
  // Sleeps unless a Wake() came after `ticket` was taken.
  void Wait(uint32_t ticket);
  // Wakes every thread in Wait() (and makes every Wait() on an older ticket return at once).
  void Wake();

 private:
  static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t), "futex word");
  std::atomic<uint32_t> word_{0};
};

}  // namespace framerpc

#endif  // FRAMERPC_BASE_PARKER_H_

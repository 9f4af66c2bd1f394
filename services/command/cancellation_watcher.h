// Kills commands whose calls went away: one thread polls the registered calls' cancellation
// flags and runs a registration's action (Process::Kill) once its call is cancelled.
//
// Why poll: ServerContext offers IsCancelled() and a blocking WaitForCancellation(deadline), but
// nothing that a command's end can wake. A thread per command blocked in WaitForCancellation
// could not be released when the command finishes first (the usual case) without waiting out a
// slice, which would add that slice to every call. One thread checking every registration each
// `interval` costs nothing per call, and bounds the time from a cancellation to the kill by the
// interval. It sleeps while nothing is registered.
//
// Thread safety: thread-safe. Lifetime: every Watch must be destroyed before the watcher.
#ifndef FRAMERPC_SERVICES_COMMAND_CANCELLATION_WATCHER_H_
#define FRAMERPC_SERVICES_COMMAND_CANCELLATION_WATCHER_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "absl/time/time.h"

namespace framerpc::command {

class CancellationWatcher {
 public:
  // A registration; destroying it unregisters. Move-only.
  class Watch {
   public:
    Watch() = default;
    Watch(Watch&& other) noexcept;
    Watch& operator=(Watch&& other) noexcept;
    Watch(const Watch&) = delete;
    Watch& operator=(const Watch&) = delete;
    // Once this returns, neither of the registration's functions runs again.
    ~Watch() { reset(); }
    void reset();

   private:
    friend class CancellationWatcher;
    Watch(CancellationWatcher* watcher, uint64_t id) : watcher_(watcher), id_(id) {}

    CancellationWatcher* watcher_ = nullptr;  // not owned; null when empty
    uint64_t id_ = 0;
  };

  explicit CancellationWatcher(absl::Duration interval);
  ~CancellationWatcher();
  CancellationWatcher(const CancellationWatcher&) = delete;
  CancellationWatcher& operator=(const CancellationWatcher&) = delete;

  // Calls `on_cancel` once, on the watcher's thread, after `is_cancelled` first returns true.
  // Both run with the watcher's lock held, so they must be quick and must not touch the watcher;
  // they must stay callable until the Watch is destroyed.
  Watch Add(std::function<bool()> is_cancelled, std::function<void()> on_cancel);

 private:
  struct Entry {
    std::function<bool()> is_cancelled;
    std::function<void()> on_cancel;
    bool fired = false;
  };

  void Remove(uint64_t id);
  void Loop();

  const absl::Duration interval_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;                 // guarded by mu_
  uint64_t next_id_ = 1;              // guarded by mu_
  std::map<uint64_t, Entry> entries_;  // guarded by mu_
  std::thread thread_;
};

}  // namespace framerpc::command

#endif  // FRAMERPC_SERVICES_COMMAND_CANCELLATION_WATCHER_H_

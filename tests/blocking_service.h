// Test-only service whose calls block until the test opens a gate or the call is cancelled.
#ifndef FRAMERPC_TESTS_BLOCKING_SERVICE_H_
#define FRAMERPC_TESTS_BLOCKING_SERVICE_H_

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "tests/test_service.frpc.h"

namespace framerpc::test {

// Thread-safe.
class BlockingServiceImpl final : public BlockingService::Service {
 public:
  absl::Status Block(ServerContext* context, const BlockRequest& request,
                     BlockReply* reply) override {
    // Wakes the wait below when the call is cancelled (from the thread that cancels it). Before
    // taking mu_: an already cancelled call runs it at once, here.
    CancellationCallback wake = context->OnCancel([this] {
      std::lock_guard<std::mutex> lock(mu_);
      changed_.notify_all();
    });
    std::unique_lock<std::mutex> lock(mu_);
    ++started_;
    changed_.notify_all();
    while (!open_.contains(request.gate())) {
      if (context->IsCancelled()) {
        ++cancelled_;
        changed_.notify_all();
        return absl::CancelledError("handler saw the cancellation");
      }
      changed_.wait(lock);
    }
    reply->set_released(true);
    return absl::OkStatus();
  }

  absl::Status Grow(ServerContext* context, const GrowRequest& request, GrowReply* reply) override {
    grow_calls_.fetch_add(1, std::memory_order_relaxed);
    reply->set_data(std::string(request.reply_bytes(), 'g'));
    return absl::OkStatus();
  }

  int grow_calls() const { return grow_calls_.load(std::memory_order_relaxed); }

  void Open(const std::string& gate) {
    std::lock_guard<std::mutex> lock(mu_);
    open_.insert(gate);
    changed_.notify_all();
  }
  // Blocks until `n` handlers have started.
  void WaitForStarted(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, [&] { return started_ >= n; });
  }
  // Blocks until `n` handlers have observed a cancellation.
  void WaitForCancelled(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, [&] { return cancelled_ >= n; });
  }

 private:
  std::atomic<int> grow_calls_{0};
  std::mutex mu_;
  std::condition_variable changed_;
  absl::flat_hash_set<std::string> open_;  // guarded by mu_
  int started_ = 0;                        // guarded by mu_
  int cancelled_ = 0;                      // guarded by mu_
};

}  // namespace framerpc::test

#endif  // FRAMERPC_TESTS_BLOCKING_SERVICE_H_

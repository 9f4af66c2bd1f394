// A fixed pool of threads running queued tasks, for handlers that may block. Thread-safe.
// The destructor runs every queued task, then joins.
#ifndef FRAMERPC_RPC_WORKER_POOL_H_
#define FRAMERPC_RPC_WORKER_POOL_H_

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include <condition_variable>
#include <mutex>

namespace framerpc {

class WorkerPool {
 public:
  explicit WorkerPool(int threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Tasks submitted after Stop() run on the caller's thread.
  void Submit(std::function<void()> task);
  // Runs every queued task, then joins the threads. Idempotent.
  void Stop();

 private:
  void Work();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;  // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace framerpc

#endif  // FRAMERPC_RPC_WORKER_POOL_H_

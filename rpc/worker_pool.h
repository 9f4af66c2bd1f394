// A fixed pool of threads running queued tasks, for handlers that may block. Thread-safe.
// The destructor runs every queued task, then joins.
#ifndef FRAMERPC_RPC_WORKER_POOL_H_
#define FRAMERPC_RPC_WORKER_POOL_H_

#include <chrono>
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

// Runs each task at once on a thread of its own: an idle thread left by an earlier task, or a new
// one. For streaming handlers, which may block for the whole life of a call. Threads idle for
// `idle_timeout` exit. Thread-safe.
class ElasticThreadPool {
 public:
  explicit ElasticThreadPool(std::chrono::milliseconds idle_timeout = std::chrono::seconds(30))
      : idle_timeout_(idle_timeout) {}
  // Stop()s.
  ~ElasticThreadPool();
  ElasticThreadPool(const ElasticThreadPool&) = delete;
  ElasticThreadPool& operator=(const ElasticThreadPool&) = delete;

  // Tasks submitted after Stop() run on the caller's thread.
  void Submit(std::function<void()> task);
  // Waits for every running task to return; idle threads exit. Idempotent.
  void Stop();

 private:
  void Work(std::function<void()> task);

  const std::chrono::milliseconds idle_timeout_;
  std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable exit_cv_;
  std::deque<std::function<void()>> tasks_;  // guarded by mu_
  int idle_ = 0;                             // guarded by mu_
  int live_ = 0;                             // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
};

}  // namespace framerpc

#endif  // FRAMERPC_RPC_WORKER_POOL_H_

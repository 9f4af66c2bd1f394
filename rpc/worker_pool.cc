#include "rpc/worker_pool.h"

namespace framerpc {

WorkerPool::WorkerPool(int threads) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Work(); });
}

WorkerPool::~WorkerPool() { Stop(); }

void WorkerPool::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void WorkerPool::Submit(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopping_) {
      tasks_.push_back(std::move(task));
      cv_.notify_one();
      return;
    }
  }
  task();
}

void WorkerPool::Work() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) return;  // stopping and drained
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

ElasticThreadPool::~ElasticThreadPool() { Stop(); }

void ElasticThreadPool::Submit(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopping_) {
      if (idle_ > static_cast<int>(tasks_.size())) {
        tasks_.push_back(std::move(task));
        work_cv_.notify_one();
      } else {
        ++live_;
        std::thread([this, task = std::move(task)]() mutable { Work(std::move(task)); }).detach();
      }
      return;
    }
  }
  task();
}

void ElasticThreadPool::Work(std::function<void()> task) {
  for (;;) {
    task();
    task = nullptr;
    std::unique_lock<std::mutex> lock(mu_);
    ++idle_;
    work_cv_.wait_for(lock, idle_timeout_, [this] { return stopping_ || !tasks_.empty(); });
    --idle_;
    if (tasks_.empty()) {
      // Nothing touches *this after the unlock that follows, so Stop() may return and the pool
      // be destroyed as soon as it sees live_ reach zero.
      if (--live_ == 0) exit_cv_.notify_all();
      return;
    }
    task = std::move(tasks_.front());
    tasks_.pop_front();
  }
}

void ElasticThreadPool::Stop() {
  std::unique_lock<std::mutex> lock(mu_);
  stopping_ = true;
  work_cv_.notify_all();
  exit_cv_.wait(lock, [this] { return live_ == 0; });
}

}  // namespace framerpc

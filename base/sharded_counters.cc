#include "base/sharded_counters.h"

namespace framerpc {

ShardedCounters::ShardedCounters(size_t counters)
    : counters_(counters),
      lines_per_shard_((counters + kPerLine - 1) / kPerLine),
      lines_(new Line[kShards * lines_per_shard_]) {
  for (size_t shard = 0; shard < kShards; ++shard) {
    for (size_t i = 0; i < lines_per_shard_ * kPerLine; ++i) {
      Cell(shard, i).store(0, std::memory_order_relaxed);
    }
  }
}

uint64_t ShardedCounters::Sum(size_t index) const {
  uint64_t sum = 0;
  for (size_t shard = 0; shard < kShards; ++shard) {
    sum += Cell(shard, index).load(std::memory_order_relaxed);
  }
  return sum;
}

size_t ShardedCounters::ThisThreadsShard() {
  static std::atomic<size_t> next{0};
  thread_local const size_t shard = next.fetch_add(1, std::memory_order_relaxed) % kShards;
  return shard;
}

}  // namespace framerpc

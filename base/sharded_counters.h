// ShardedCounters: a fixed set of monotonic counters that many threads add to without sharing a
// cache line: each thread adds to one of kShards copies (chosen once per thread), and readers sum
// the copies. An add is one relaxed atomic add on memory no other running thread is likely to
// touch, where a single shared counter costs a contended cache line per add (measured in
// docs/observability.md). Sums are exact once the adds have happened; a reader racing with adders
// sees each counter at some value it has passed through or will pass through.
//
// Thread safety: Add() and Sum() from any thread.
#ifndef FRAMERPC_BASE_SHARDED_COUNTERS_H_
#define FRAMERPC_BASE_SHARDED_COUNTERS_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace framerpc {

class ShardedCounters {
 public:
  static constexpr size_t kShards = 8;

  explicit ShardedCounters(size_t counters);
  ShardedCounters(const ShardedCounters&) = delete;
  ShardedCounters& operator=(const ShardedCounters&) = delete;

  void Add(size_t index, uint64_t delta = 1) {
    Cell(ThisThreadsShard(), index).fetch_add(delta, std::memory_order_relaxed);
  }
  uint64_t Sum(size_t index) const;
  size_t size() const { return counters_; }

 private:
  static constexpr size_t kPerLine = 8;
  struct alignas(64) Line {
    std::atomic<uint64_t> cells[kPerLine];
  };

  static size_t ThisThreadsShard();
  std::atomic<uint64_t>& Cell(size_t shard, size_t index) const {
    return lines_[shard * lines_per_shard_ + index / kPerLine].cells[index % kPerLine];
  }

  const size_t counters_;
  const size_t lines_per_shard_;
  std::unique_ptr<Line[]> lines_;  // kShards runs of lines_per_shard_ lines
};

}  // namespace framerpc

#endif  // FRAMERPC_BASE_SHARDED_COUNTERS_H_

#include "services/file/digest_cache.h"

#include <utility>

namespace framerpc::file {
namespace {

int64_t Nanos(const struct timespec& ts) {
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

}  // namespace

FileVersion FileVersion::Of(const struct stat& st) {
  FileVersion v;
  v.dev = static_cast<uint64_t>(st.st_dev);
  v.ino = static_cast<uint64_t>(st.st_ino);
  v.size = static_cast<uint64_t>(st.st_size);
  v.mtime_ns = Nanos(st.st_mtim);
  v.ctime_ns = Nanos(st.st_ctim);
  return v;
}

bool FdHasVersion(int fd, const FileVersion& version) {
  struct stat st;
  return ::fstat(fd, &st) == 0 && FileVersion::Of(st) == version;
}

DigestCache::DigestCache(DigestCacheOptions options) : options_(std::move(options)) {}

absl::Time DigestCache::Now() const { return options_.clock ? options_.clock() : absl::Now(); }

std::optional<std::string> DigestCache::Lookup(const FileVersion& version,
                                               HashAlgorithm algorithm) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(DigestKey{version, algorithm});
  if (it == index_.end()) {
    ++stats_.misses;
    return std::nullopt;
  }
  ++stats_.hits;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->second;
}

bool DigestCache::Store(const FileVersion& version, HashAlgorithm algorithm, std::string digest,
                        absl::Time hashing_started) {
  const int64_t limit_ns = absl::ToUnixNanos(hashing_started - options_.racy_margin);
  std::lock_guard<std::mutex> lock(mu_);
  if (options_.max_entries == 0) return false;
  if (version.mtime_ns > limit_ns || version.ctime_ns > limit_ns) {
    ++stats_.refused_racy;
    return false;
  }
  const DigestKey key{version, algorithm};
  auto it = index_.find(key);
  if (it != index_.end()) {
    it->second->second = std::move(digest);
    lru_.splice(lru_.begin(), lru_, it->second);
  } else {
    if (lru_.size() >= options_.max_entries) {
      index_.erase(lru_.back().first);
      lru_.pop_back();
      ++stats_.evicted;
    }
    lru_.emplace_front(key, std::move(digest));
    index_.emplace(key, lru_.begin());
  }
  ++stats_.stored;
  return true;
}

DigestCacheStats DigestCache::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  DigestCacheStats stats = stats_;
  stats.entries = lru_.size();
  return stats;
}

}  // namespace framerpc::file

// DigestCache on its own: the racy rule against an injected clock, the key (the version and the
// algorithm), the cap and its LRU order, and concurrent use (run under --config=tsan).
#include "services/file/digest_cache.h"

#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace framerpc::file {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1700000000);
constexpr HashAlgorithm kSha = HashAlgorithm::kSha256;
constexpr HashAlgorithm kXxh = HashAlgorithm::kXxh128;

// A version whose mtime and ctime are `age` before kNow.
FileVersion VersionAged(absl::Duration age, uint64_t ino = 7) {
  FileVersion v;
  v.dev = 1;
  v.ino = ino;
  v.size = 100;
  v.mtime_ns = absl::ToUnixNanos(kNow - age);
  v.ctime_ns = v.mtime_ns;
  return v;
}

DigestCacheOptions Options(size_t max_entries = 16) {
  DigestCacheOptions options;
  options.max_entries = max_entries;
  options.clock = [] { return kNow; };
  return options;
}

TEST(DigestCacheTest, StoresAnOldFileAndFindsIt) {
  DigestCache cache(Options());
  EXPECT_EQ(cache.Now(), kNow);
  const FileVersion v = VersionAged(absl::Seconds(3));
  EXPECT_FALSE(cache.Lookup(v, kSha).has_value());
  EXPECT_TRUE(cache.Store(v, kSha, "digest-a", cache.Now()));
  EXPECT_EQ(cache.Lookup(v, kSha), "digest-a");
  const DigestCacheStats stats = cache.stats();
  EXPECT_EQ(stats.hits, 1u);
  EXPECT_EQ(stats.misses, 1u);
  EXPECT_EQ(stats.stored, 1u);
  EXPECT_EQ(stats.entries, 1u);
}

TEST(DigestCacheTest, RefusesARacilyNewFile) {
  DigestCache cache(Options());
  // Exactly at the margin is old enough; a nanosecond newer is not.
  EXPECT_TRUE(cache.Store(VersionAged(absl::Seconds(2), 1), kSha, "d", kNow));
  EXPECT_FALSE(
      cache.Store(VersionAged(absl::Seconds(2) - absl::Nanoseconds(1), 2), kSha, "d", kNow));
  EXPECT_FALSE(cache.Store(VersionAged(absl::ZeroDuration(), 3), kSha, "d", kNow));
  EXPECT_FALSE(cache.Store(VersionAged(-absl::Hours(1), 4), kSha, "d", kNow));  // from the future
  // mtime set back (utimensat) does not help while ctime is new.
  FileVersion touched = VersionAged(absl::Hours(24), 5);
  touched.ctime_ns = absl::ToUnixNanos(kNow);
  EXPECT_FALSE(cache.Store(touched, kSha, "d", kNow));
  EXPECT_EQ(cache.stats().refused_racy, 4u);
  EXPECT_EQ(cache.stats().entries, 1u);
  EXPECT_FALSE(cache.Lookup(touched, kSha).has_value());
}

TEST(DigestCacheTest, EveryFieldOfTheVersionIsPartOfTheKey) {
  DigestCache cache(Options());
  const FileVersion v = VersionAged(absl::Seconds(10));
  ASSERT_TRUE(cache.Store(v, kSha, "d", kNow));
  std::vector<FileVersion> others(5, v);
  ++others[0].dev;
  ++others[1].ino;
  ++others[2].size;
  ++others[3].mtime_ns;
  ++others[4].ctime_ns;
  for (const FileVersion& other : others) EXPECT_FALSE(cache.Lookup(other, kSha).has_value());
  EXPECT_TRUE(cache.Lookup(v, kSha).has_value());
}

TEST(DigestCacheTest, EachAlgorithmHasItsOwnEntry) {
  DigestCache cache(Options());
  const FileVersion v = VersionAged(absl::Seconds(3));
  ASSERT_TRUE(cache.Store(v, kXxh, "xxh-digest", kNow));
  EXPECT_FALSE(cache.Lookup(v, kSha).has_value());  // a miss, not the other algorithm's digest
  ASSERT_TRUE(cache.Store(v, kSha, "sha-digest", kNow));
  EXPECT_EQ(cache.Lookup(v, kXxh), "xxh-digest");
  EXPECT_EQ(cache.Lookup(v, kSha), "sha-digest");
  EXPECT_EQ(cache.stats().entries, 2u);
  // The racy rule holds for each.
  const FileVersion fresh = VersionAged(absl::ZeroDuration(), 8);
  EXPECT_FALSE(cache.Store(fresh, kXxh, "d", kNow));
  EXPECT_FALSE(cache.Lookup(fresh, kXxh).has_value());
}

TEST(DigestCacheTest, CapEvictsTheLeastRecentlyUsed) {
  DigestCache cache(Options(/*max_entries=*/3));
  for (uint64_t ino = 1; ino <= 3; ++ino) {
    ASSERT_TRUE(cache.Store(VersionAged(absl::Seconds(5), ino), kSha, std::to_string(ino), kNow));
  }
  ASSERT_TRUE(cache.Lookup(VersionAged(absl::Seconds(5), 1), kSha).has_value());  // 1 is now newest
  ASSERT_TRUE(cache.Store(VersionAged(absl::Seconds(5), 4), kSha, "4", kNow));    // evicts 2
  EXPECT_EQ(cache.stats().entries, 3u);
  EXPECT_EQ(cache.stats().evicted, 1u);
  EXPECT_FALSE(cache.Lookup(VersionAged(absl::Seconds(5), 2), kSha).has_value());
  EXPECT_EQ(cache.Lookup(VersionAged(absl::Seconds(5), 1), kSha), "1");
  EXPECT_EQ(cache.Lookup(VersionAged(absl::Seconds(5), 3), kSha), "3");
  EXPECT_EQ(cache.Lookup(VersionAged(absl::Seconds(5), 4), kSha), "4");
  // Storing a version again replaces its digest without growing.
  ASSERT_TRUE(cache.Store(VersionAged(absl::Seconds(5), 3), kSha, "3b", kNow));
  EXPECT_EQ(cache.Lookup(VersionAged(absl::Seconds(5), 3), kSha), "3b");
  EXPECT_EQ(cache.stats().entries, 3u);
}

TEST(DigestCacheTest, ZeroEntriesStoresNothing) {
  DigestCache cache(Options(/*max_entries=*/0));
  EXPECT_FALSE(cache.Store(VersionAged(absl::Seconds(5)), kSha, "d", kNow));
  EXPECT_EQ(cache.stats().entries, 0u);
}

TEST(DigestCacheTest, ConcurrentUseStaysWithinTheCap) {
  DigestCache cache(Options(/*max_entries=*/8));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&cache, t] {
      for (uint64_t i = 0; i < 500; ++i) {
        const FileVersion v = VersionAged(absl::Seconds(5), (i * 7 + t) % 20);
        if (!cache.Lookup(v, kSha)) cache.Store(v, kSha, std::to_string(v.ino), kNow);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  const DigestCacheStats stats = cache.stats();
  EXPECT_LE(stats.entries, 8u);
  EXPECT_EQ(stats.hits + stats.misses, 2000u);
  for (uint64_t ino = 0; ino < 20; ++ino) {
    std::optional<std::string> digest = cache.Lookup(VersionAged(absl::Seconds(5), ino), kSha);
    if (digest) {
      EXPECT_EQ(*digest, std::to_string(ino));
    }
  }
}

}  // namespace
}  // namespace framerpc::file

// DigestCache: the digests of whole files the server has already hashed, in each checksum
// algorithm asked for (checksum.h), so that downloading (or checksum-Stat-ing) an unchanged file
// again costs no hashing on the server.
//
// An entry is keyed by the file's version and the algorithm; the version is (st_dev, st_ino, size,
// mtime, ctime), all from fstat of the open fd the bytes are read from. Any write to a file moves
// its ctime to the current time (and nobody can set ctime back), so a file whose version is
// unchanged has unchanged content, with one exception that the cache must rule out: kernel
// timestamps are coarse, so a write that lands in the same timestamp tick as the version's own
// mtime/ctime leaves the version unchanged. Hence the rule git uses for its index ("racily clean"):
// a digest is stored only when the file's mtime and ctime are at least `racy_margin` older than the
// moment the hashing started. Any write after that moment then carries a later timestamp, and a new
// version.
//
// What a user of a cached digest must still do: fstat the fd again after reading the bytes and
// refuse to vouch for them if the version changed (file_service.h: the download ends ABORTED).
//
// Thread safety: all methods are safe to call concurrently. Memory: at most max_entries entries
// (least recently used first out), about 200 bytes each.
#ifndef FRAMERPC_SERVICES_FILE_DIGEST_CACHE_H_
#define FRAMERPC_SERVICES_FILE_DIGEST_CACHE_H_

#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "services/file/checksum.h"

namespace framerpc::file {

// What identifies one version of a file's content.
struct FileVersion {
  uint64_t dev = 0;
  uint64_t ino = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;

  static FileVersion Of(const struct stat& st);

  friend bool operator==(const FileVersion& a, const FileVersion& b) {
    return a.dev == b.dev && a.ino == b.ino && a.size == b.size && a.mtime_ns == b.mtime_ns &&
           a.ctime_ns == b.ctime_ns;
  }
  friend bool operator!=(const FileVersion& a, const FileVersion& b) { return !(a == b); }
  template <typename H>
  friend H AbslHashValue(H h, const FileVersion& v) {
    return H::combine(std::move(h), v.dev, v.ino, v.size, v.mtime_ns, v.ctime_ns);
  }
};

// One cache entry's key: a version's digest in one algorithm.
struct DigestKey {
  FileVersion version;
  HashAlgorithm algorithm = HashAlgorithm::kSha256;

  friend bool operator==(const DigestKey& a, const DigestKey& b) {
    return a.version == b.version && a.algorithm == b.algorithm;
  }
  template <typename H>
  friend H AbslHashValue(H h, const DigestKey& k) {
    return H::combine(std::move(h), k.version, k.algorithm);
  }
};

// Whether the file open as `fd` still has `version` (false also if fstat fails).
bool FdHasVersion(int fd, const FileVersion& version);

struct DigestCacheOptions {
  // The most digests kept; 0 turns the cache off (FileServiceImpl then hashes every download).
  size_t max_entries = 4096;
  // How much older than the start of the hashing a file's mtime and ctime must be for its digest
  // to be stored. Covers the kernel's coarse timestamps (a few ms) with a wide margin, as git does.
  absl::Duration racy_margin = absl::Seconds(2);
  // The clock the rule compares with (CLOCK_REALTIME, like file timestamps); null means
  // absl::Now. Tests inject one to make a file count as old or as new.
  std::function<absl::Time()> clock;
};

struct DigestCacheStats {
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t stored = 0;
  uint64_t refused_racy = 0;  // not stored: the file was too new when its hashing started
  uint64_t evicted = 0;
  size_t entries = 0;
};

class DigestCache {
 public:
  explicit DigestCache(DigestCacheOptions options);
  DigestCache(const DigestCache&) = delete;
  DigestCache& operator=(const DigestCache&) = delete;

  // The time by the cache's clock: take it just before reading the bytes to hash, and pass it to
  // Store.
  absl::Time Now() const;

  // The digest in `algorithm` stored for `version`, if any (and it becomes the most recently
  // used). A version's digests in the two algorithms are separate entries.
  std::optional<std::string> Lookup(const FileVersion& version, HashAlgorithm algorithm);

  // Stores `digest` (in `algorithm`) of the content of `version`, read from `hashing_started` on,
  // if the racy rule allows; returns whether it did. The caller has checked that the file's
  // version after the hashing is still `version`.
  bool Store(const FileVersion& version, HashAlgorithm algorithm, std::string digest,
             absl::Time hashing_started);

  DigestCacheStats stats() const;
  const DigestCacheOptions& options() const { return options_; }

 private:
  using Entry = std::pair<DigestKey, std::string>;

  const DigestCacheOptions options_;
  mutable std::mutex mu_;
  std::list<Entry> lru_;  // most recently used first; guarded by mu_
  absl::flat_hash_map<DigestKey, std::list<Entry>::iterator> index_;  // guarded by mu_
  DigestCacheStats stats_;                                            // guarded by mu_
};

}  // namespace framerpc::file

#endif  // FRAMERPC_SERVICES_FILE_DIGEST_CACHE_H_

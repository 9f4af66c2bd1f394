// The file service's digest cache end to end (digest_cache.h): a whole-file download or
// checksummed Stat of an unchanged, old-enough file hashes nothing on the server
// (TransferCounters::bytes_hashed stays put); a changed file is hashed again; a file that changes
// while a download sends a cached digest's bytes ends ABORTED; racily new files are not stored;
// ranges are always hashed; the cap holds; max_entries = 0 turns it off. Each checksum algorithm
// has its own entries: a file cached in one is hashed once more in the other, then cached in both.
//
// The racy rule's clock is injected: "old" files are those the test's clock sees as an hour old,
// so nothing waits for real time to pass. A test that changes a file also sets its mtime to a
// distinct value, as a real write would (the injected clock would otherwise let a change land in
// the same timestamp tick as the version it replaces, which is what the rule exists to exclude).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "services/file/checksum.h"
#include "services/file/checksum_proto.h"
#include "services/file/file_client.h"
#include "services/file/file_server_fixture.h"
#include "services/file/sha256.h"
#include "services/file/test_tree.h"

namespace framerpc::file {
namespace {

using Code = absl::StatusCode;

constexpr size_t kChunk = size_t{64} << 10;

absl::Time Soon() { return absl::Now() + absl::Seconds(30); }

struct Downloaded {
  absl::Status status;
  std::string data;
  bool has_trailer = false;
  DownloadTrailer trailer;
};

// Reads the rest of a download that has already started.
Downloaded ReadToEnd(ClientReader<DownloadResponse>* reader) {
  Downloaded out;
  DownloadResponse message;
  std::string attachment;
  while (reader->Read(&message, &attachment)) {
    if (message.has_trailer()) {
      out.has_trailer = true;
      out.trailer = message.trailer();
    } else if (!message.has_header()) {
      out.data += attachment;
    }
  }
  out.status = UnsharedStatus(reader->Finish());
  return out;
}

Downloaded Download(FileService::Stub* stub, const DownloadRequest& request) {
  ClientContext context;
  auto reader = stub->Download(&context, request);
  return ReadToEnd(reader.get());
}

DownloadRequest Whole(const std::string& path) {
  DownloadRequest request;
  request.set_path(path);
  return request;
}

// Sets the file's mtime to `seconds` after the epoch (its ctime becomes the real now).
void SetMtime(const std::string& path, int64_t seconds) {
  struct timespec times[2] = {{seconds, 0}, {seconds, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0) << path;
}

// Overwrites `data` at `offset` in place (same inode), then sets a new mtime.
void RewriteInPlace(const std::string& path, uint64_t offset, const std::string& data,
                    int64_t mtime_seconds) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0) << path;
  EXPECT_EQ(::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset)),
            static_cast<ssize_t>(data.size()));
  ::close(fd);
  SetMtime(path, mtime_seconds);
}

class DigestCacheServiceTest : public ::testing::Test {
 protected:
  // `clock_ahead`: how far ahead of real time the racy rule's clock runs.
  void Start(absl::Duration clock_ahead = absl::Hours(1), size_t max_entries = 16) {
    FileServiceOptions options;
    options.chunk_bytes = kChunk;
    options.digest_cache.max_entries = max_entries;
    options.digest_cache.clock = [clock_ahead] { return absl::Now() + clock_ahead; };
    absl::Status status = server_.Start(tree_.root(), std::move(options));
    ASSERT_TRUE(status.ok()) << status;
  }
  uint64_t Hashed() { return server_.tracker()->Snapshot().bytes_hashed; }
  DigestCacheStats CacheStats() { return server_.service()->digest_cache()->stats(); }
  FileService::Stub* stub() { return server_.stub(); }
  // Downloads the root's file "f" twice, each time checking the trailer's digest.
  void DownloadTwiceAndCheck(const std::string& content) {
    for (int i = 0; i < 2; ++i) {
      Downloaded got = Download(stub(), Whole("f"));
      ASSERT_TRUE(got.status.ok()) << got.status;
      EXPECT_EQ(got.trailer.sha256(), Sha256::Of(content));
    }
  }

  TestTree tree_;
  FileServer server_;
};

TEST_F(DigestCacheServiceTest, SecondDownloadUsesTheCachedDigestAndHashesNothing) {
  Start();
  const std::string content = TestContent(3 * kChunk + 17);
  TestTree::WriteFile(tree_.InRoot("f"), content);

  Downloaded first = Download(stub(), Whole("f"));
  ASSERT_TRUE(first.status.ok()) << first.status;
  EXPECT_EQ(first.trailer.sha256(), Sha256::Of(content));
  EXPECT_EQ(Hashed(), content.size());
  EXPECT_EQ(CacheStats().stored, 1u);

  Downloaded second = Download(stub(), Whole("f"));
  ASSERT_TRUE(second.status.ok()) << second.status;
  EXPECT_TRUE(second.data == content);
  EXPECT_EQ(second.trailer.sha256(), Sha256::Of(content));
  EXPECT_EQ(Hashed(), content.size());  // nothing more
  EXPECT_EQ(CacheStats().hits, 1u);

  // The whole-file checksum of an offset-0 download is the same digest.
  DownloadRequest from_start = Whole("f");
  from_start.set_sha256_from_start(true);
  Downloaded third = Download(stub(), from_start);
  ASSERT_TRUE(third.status.ok()) << third.status;
  EXPECT_EQ(third.trailer.file_sha256(), Sha256::Of(content));
  EXPECT_EQ(Hashed(), content.size());

  // The client library verifies it like any other, when it asks for SHA-256.
  ClientContext context;
  DownloadOptions options;
  options.checksum = HashAlgorithm::kSha256;
  auto result = DownloadFile(stub(), &context, "f", tree_.base() + "/out", options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->digest, Sha256::Of(content));
  EXPECT_EQ(Hashed(), content.size());
}

TEST_F(DigestCacheServiceTest, EachAlgorithmIsCachedOnItsOwn) {
  Start();
  const std::string content = TestContent(2 * kChunk + 9);
  TestTree::WriteFile(tree_.InRoot("f"), content);
  DownloadRequest xxh = Whole("f");
  xxh.set_checksum(CHECKSUM_XXH3_128);
  for (int i = 0; i < 2; ++i) {
    Downloaded got = Download(stub(), xxh);
    ASSERT_TRUE(got.status.ok()) << got.status;
    EXPECT_EQ(got.trailer.checksum().digest(), Xxh128::Of(content));
  }
  EXPECT_EQ(Hashed(), content.size());  // the second from the cache
  EXPECT_EQ(CacheStats().hits, 1u);

  // SHA-256, asked for by name or by an old client, is not the cached XXH3-128: hashed once more.
  DownloadRequest sha = Whole("f");
  sha.set_checksum(CHECKSUM_SHA256);
  Downloaded got = Download(stub(), sha);
  ASSERT_TRUE(got.status.ok()) << got.status;
  EXPECT_EQ(got.trailer.checksum().digest(), Sha256::Of(content));
  EXPECT_EQ(Hashed(), 2 * content.size());
  got = Download(stub(), Whole("f"));
  ASSERT_TRUE(got.status.ok()) << got.status;
  EXPECT_EQ(got.trailer.sha256(), Sha256::Of(content));
  EXPECT_EQ(Hashed(), 2 * content.size());
  EXPECT_EQ(CacheStats().entries, 2u);

  // The client library's default finds XXH3-128 cached; so does a checksummed Stat.
  ClientContext context;
  auto result = DownloadFile(stub(), &context, "f", tree_.base() + "/out", {});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->digest, Xxh128::Of(content));
  StatRequest stat;
  stat.set_path("f");
  stat.set_checksum(CHECKSUM_XXH3_128);
  StatResponse response;
  ClientContext stat_context;
  ASSERT_TRUE(stub()->Stat(&stat_context, stat, &response).ok());
  EXPECT_EQ(response.checksum().digest(), Xxh128::Of(content));
  EXPECT_EQ(Hashed(), 2 * content.size());
  EXPECT_EQ(CacheStats().hits, 4u);
}

TEST_F(DigestCacheServiceTest, StatAndDownloadShareTheCache) {
  Start();
  const std::string content = TestContent(2 * kChunk);
  TestTree::WriteFile(tree_.InRoot("f"), content);
  StatRequest request;
  request.set_path("f");
  request.set_want_sha256(true);
  for (int i = 0; i < 2; ++i) {
    StatResponse response;
    ClientContext context;
    ASSERT_TRUE(stub()->Stat(&context, request, &response).ok());
    EXPECT_EQ(response.sha256(), Sha256::Of(content));
  }
  EXPECT_EQ(Hashed(), content.size());
  Downloaded got = Download(stub(), Whole("f"));
  ASSERT_TRUE(got.status.ok()) << got.status;
  EXPECT_EQ(got.trailer.sha256(), Sha256::Of(content));
  EXPECT_EQ(Hashed(), content.size());
  EXPECT_EQ(CacheStats().hits, 2u);
}

TEST_F(DigestCacheServiceTest, ChangedFileIsHashedAgain) {
  Start();
  const std::string path = tree_.InRoot("f");
  std::string content = TestContent(kChunk + 5);
  TestTree::WriteFile(path, content);
  SetMtime(path, 1000000000);
  ASSERT_TRUE(Download(stub(), Whole("f")).status.ok());

  // Same size, same inode, new content and mtime.
  RewriteInPlace(path, 10, "changed", 1000000100);
  content.replace(10, 7, "changed");
  Downloaded got = Download(stub(), Whole("f"));
  ASSERT_TRUE(got.status.ok()) << got.status;
  EXPECT_TRUE(got.data == content);
  EXPECT_EQ(got.trailer.sha256(), Sha256::Of(content));
  EXPECT_EQ(Hashed(), 2 * content.size());
  EXPECT_EQ(CacheStats().hits, 0u);
  EXPECT_EQ(CacheStats().misses, 2u);

  // Replaced by another file under the same name: another inode.
  const std::string other = TestContent(kChunk + 5, 99);
  TestTree::WriteFile(tree_.InRoot("g"), other);
  TestTree::Rename(tree_.InRoot("g"), path);
  got = Download(stub(), Whole("f"));
  ASSERT_TRUE(got.status.ok()) << got.status;
  EXPECT_EQ(got.trailer.sha256(), Sha256::Of(other));
  EXPECT_EQ(CacheStats().hits, 0u);
}

// The window holds 16 messages of kChunk bytes: with nothing read, the 17th write blocks. The
// file is changed while the download is stopped there, so the rest is read from the new version.
class StoppedDownload {
 public:
  // Call with no other download running: the counters must be still when it starts.
  StoppedDownload(FileService::Stub* stub, TransferTracker* tracker, const std::string& path)
      : base_(tracker->Snapshot().chunk_writes_done),
        reader_(stub->Download(&context_, Whole(path))) {
    EXPECT_TRUE(tracker->WaitFor(
        [base = base_](const TransferCounters& c) {
          return c.chunk_writes_done >= base + 16 && c.chunk_writes_started > c.chunk_writes_done;
        },
        Soon()));
  }
  Downloaded Finish() { return ReadToEnd(reader_.get()); }

 private:
  const uint64_t base_;
  ClientContext context_;
  std::unique_ptr<ClientReader<DownloadResponse>> reader_;
};

TEST_F(DigestCacheServiceTest, FileChangedWhileSendingACachedDigestAbortsTheDownload) {
  Start();
  const std::string path = tree_.InRoot("big");
  const std::string content = TestContent(32 * kChunk);
  TestTree::WriteFile(path, content);
  SetMtime(path, 1000000000);
  ASSERT_TRUE(Download(stub(), Whole("big")).status.ok());
  ASSERT_EQ(CacheStats().stored, 1u);

  StoppedDownload download(stub(), server_.tracker(), "big");
  RewriteInPlace(path, 30 * kChunk, "not what the digest covers", 1000000100);
  Downloaded got = download.Finish();
  EXPECT_TRUE(HasStatus(got.status, Code::kAborted, "changed during the download")) << got.status;
  EXPECT_FALSE(got.has_trailer);
  EXPECT_EQ(CacheStats().hits, 1u);
}

TEST_F(DigestCacheServiceTest, FileGrownWhileSendingACachedDigestAbortsTheDownload) {
  Start();
  const std::string path = tree_.InRoot("big");
  TestTree::WriteFile(path, TestContent(32 * kChunk));
  SetMtime(path, 1000000000);
  ASSERT_TRUE(Download(stub(), Whole("big")).status.ok());

  StoppedDownload download(stub(), server_.tracker(), "big");
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "more", 4), 4);  // a new size, whatever the timestamps
  ::close(fd);
  Downloaded got = download.Finish();
  EXPECT_TRUE(HasStatus(got.status, Code::kAborted, "changed during the download")) << got.status;
}

TEST_F(DigestCacheServiceTest, FileChangedWhileHashingIsSentButNotStored) {
  Start();
  const std::string path = tree_.InRoot("big");
  std::string content = TestContent(32 * kChunk);
  TestTree::WriteFile(path, content);
  SetMtime(path, 1000000000);

  StoppedDownload download(stub(), server_.tracker(), "big");
  RewriteInPlace(path, 30 * kChunk, "changed", 1000000100);
  content.replace(30 * kChunk, 7, "changed");
  Downloaded got = download.Finish();
  // The trailer covers the bytes sent, as without a cache.
  ASSERT_TRUE(got.status.ok()) << got.status;
  EXPECT_TRUE(got.data == content);
  EXPECT_EQ(got.trailer.sha256(), Sha256::Of(content));
  EXPECT_EQ(CacheStats().stored, 0u);
}

TEST_F(DigestCacheServiceTest, RacilyNewFileIsNotStored) {
  Start(/*clock_ahead=*/absl::Seconds(1));  // every file just written looks at most 1 s old
  const std::string content = TestContent(kChunk);
  TestTree::WriteFile(tree_.InRoot("f"), content);
  ASSERT_NO_FATAL_FAILURE(DownloadTwiceAndCheck(content));
  EXPECT_EQ(Hashed(), 2 * content.size());
  EXPECT_EQ(CacheStats().refused_racy, 2u);
  EXPECT_EQ(CacheStats().entries, 0u);

  // An old mtime does not make it old: its ctime is still new.
  SetMtime(tree_.InRoot("f"), 1000000000);
  ASSERT_TRUE(Download(stub(), Whole("f")).status.ok());
  EXPECT_EQ(CacheStats().refused_racy, 3u);
  EXPECT_EQ(CacheStats().entries, 0u);
}

TEST_F(DigestCacheServiceTest, RangesAreAlwaysHashed) {
  Start();
  const std::string content = TestContent(3 * kChunk);
  TestTree::WriteFile(tree_.InRoot("f"), content);
  ASSERT_TRUE(Download(stub(), Whole("f")).status.ok());
  ASSERT_EQ(CacheStats().entries, 1u);
  uint64_t hashed = Hashed();

  DownloadRequest tail = Whole("f");
  tail.set_offset(100);
  Downloaded got = Download(stub(), tail);
  ASSERT_TRUE(got.status.ok()) << got.status;
  EXPECT_EQ(got.trailer.sha256(), Sha256::Of(content.substr(100)));
  EXPECT_EQ(Hashed(), hashed += content.size() - 100);

  DownloadRequest head = Whole("f");
  head.set_length(content.size() - 1);
  got = Download(stub(), head);
  ASSERT_TRUE(got.status.ok()) << got.status;
  EXPECT_EQ(got.trailer.sha256(), Sha256::Of(content.substr(0, content.size() - 1)));
  EXPECT_EQ(Hashed(), hashed += content.size() - 1);
  EXPECT_EQ(CacheStats().hits, 0u);
}

TEST_F(DigestCacheServiceTest, CapIsRespected) {
  Start(absl::Hours(1), /*max_entries=*/2);
  for (const char* name : {"a", "b", "c"}) {
    TestTree::WriteFile(tree_.InRoot(name), TestContent(100, name[0]));
    ASSERT_TRUE(Download(stub(), Whole(name)).status.ok());
  }
  EXPECT_EQ(CacheStats().entries, 2u);
  EXPECT_EQ(CacheStats().evicted, 1u);
  const uint64_t hashed = Hashed();
  ASSERT_TRUE(Download(stub(), Whole("c")).status.ok());
  EXPECT_EQ(Hashed(), hashed);  // still there
  ASSERT_TRUE(Download(stub(), Whole("a")).status.ok());
  EXPECT_EQ(Hashed(), hashed + 100);  // evicted first
}

TEST_F(DigestCacheServiceTest, ZeroEntriesTurnsItOff) {
  Start(absl::Hours(1), /*max_entries=*/0);
  EXPECT_EQ(server_.service()->digest_cache(), nullptr);
  const std::string content = TestContent(kChunk);
  TestTree::WriteFile(tree_.InRoot("f"), content);
  ASSERT_NO_FATAL_FAILURE(DownloadTwiceAndCheck(content));
  EXPECT_EQ(Hashed(), 2 * content.size());
}

}  // namespace
}  // namespace framerpc::file

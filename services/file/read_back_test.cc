#include "services/file/read_back.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/scoped_fd.h"
#include "gtest/gtest.h"
#include "services/file/checksum.h"
#include "services/file/direct_writer.h"
#include "services/file/test_tree.h"

namespace framerpc::file {
namespace {

using Code = absl::StatusCode;

constexpr HashAlgorithm kSha = HashAlgorithm::kSha256;
constexpr HashAlgorithm kXxh = HashAlgorithm::kXxh128;

std::string Content(size_t size, uint32_t seed) {
  std::string s(size, '\0');
  uint32_t x = 2463534242u ^ seed;
  for (char& c : s) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x);
  }
  return s;
}

// A new file in `dir`, open read-write, holding `content` written as an upload writes it.
ScopedFd Staged(const std::string& dir, const std::string& content) {
  const std::string path = dir + "/staged.bin";
  ScopedFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  EXPECT_TRUE(fd.valid());
  ::unlink(path.c_str());
  DirectWriter writer(fd.get(), content.size(), "staged");
  EXPECT_TRUE(writer.Append(content).ok());
  EXPECT_TRUE(writer.Finish().ok());
  return fd;
}

class ReadBackTest : public ::testing::TestWithParam<const char*> {
 protected:
  // The test's own directory, or /dev/shm (tmpfs, where O_DIRECT may be refused).
  std::string Dir() const {
    return std::string(GetParam()) == "shm" ? std::string("/dev/shm") : tree_.root();
  }

  TestTree tree_;
};

// Sizes around the alignment, the direct-I/O threshold and the block: each is read back whole.
TEST_P(ReadBackTest, DigestIsThatOfTheContent) {
  const size_t kBlock = DirectWriter::kMaxBufferBytes;
  const size_t kMin = DirectWriter::kMinDirectBytes;
  for (const size_t size : {size_t{0}, size_t{1}, size_t{4095}, size_t{4096}, kMin - 1, kMin,
                            kMin + 1, kBlock, kBlock + 17, 3 * kBlock + 4096 + 5}) {
    SCOPED_TRACE(size);
    const std::string content = Content(size, static_cast<uint32_t>(size));
    ScopedFd fd = Staged(Dir(), content);
    for (const HashAlgorithm algorithm : {HashAlgorithm::kSha256, HashAlgorithm::kXxh128}) {
      absl::StatusOr<std::string> digest = ReadBackDigest(fd.get(), size, algorithm, "staged");
      ASSERT_TRUE(digest.ok()) << digest.status();
      EXPECT_EQ(*digest, Hasher::Of(algorithm, content)) << AlgorithmName(algorithm);
      EXPECT_EQ(::fcntl(fd.get(), F_GETFL) & O_DIRECT, 0);  // left as it came
    }
  }
}

// The read-back sees what the file holds, whoever wrote it.
TEST_P(ReadBackTest, BytesChangedBehindTheWriterChangeTheDigest) {
  const std::string content = Content(3 * DirectWriter::kMaxBufferBytes + 5, 1);
  ScopedFd fd = Staged(Dir(), content);
  ASSERT_EQ(::pwrite(fd.get(), "attacker-payload", 16, 1 << 20), 16);
  absl::StatusOr<std::string> digest = ReadBackDigest(fd.get(), content.size(), kSha, "staged");
  ASSERT_TRUE(digest.ok()) << digest.status();
  EXPECT_NE(*digest, Sha256::Of(content));
  std::string changed = content;
  changed.replace(1 << 20, 16, "attacker-payload");
  EXPECT_EQ(*digest, Sha256::Of(changed));
}

TEST_P(ReadBackTest, AFileLongerOrShorterThanWrittenIsDataLoss) {
  for (const size_t size : {size_t{100}, size_t{2} << 20}) {
    SCOPED_TRACE(size);
    const std::string content = Content(size, 2);
    ScopedFd fd = Staged(Dir(), content);
    EXPECT_TRUE(HasStatus(ReadBackDigest(fd.get(), size + 1, kXxh, "a/b").status(), Code::kDataLoss,
                          "'a/b' changed while it was staged"));
    EXPECT_TRUE(
        HasStatus(ReadBackDigest(fd.get(), size - 1, kSha, "a/b").status(), Code::kDataLoss));
    ASSERT_EQ(::pwrite(fd.get(), "x", 1, static_cast<off_t>(size)), 1);  // appended
    EXPECT_TRUE(HasStatus(ReadBackDigest(fd.get(), size, kXxh, "a/b").status(), Code::kDataLoss));
  }
}

TEST_P(ReadBackTest, StopsWhenAsked) {
  const std::string content = Content(2 * DirectWriter::kMaxBufferBytes, 3);
  ScopedFd fd = Staged(Dir(), content);
  int asked = 0;
  EXPECT_TRUE(HasStatus(
      ReadBackDigest(fd.get(), content.size(), kXxh, "staged", [&asked] { return ++asked == 2; })
          .status(),
      Code::kCancelled));
  EXPECT_EQ(asked, 2);
}

INSTANTIATE_TEST_SUITE_P(Filesystems, ReadBackTest, ::testing::Values("test_tmpdir", "shm"));

}  // namespace
}  // namespace framerpc::file

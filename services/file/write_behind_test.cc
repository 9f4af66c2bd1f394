#include "services/file/write_behind.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <string>

#include "absl/strings/string_view.h"
#include "base/scoped_fd.h"
#include "gtest/gtest.h"
#include "services/file/test_tree.h"

namespace framerpc::file {
namespace {

constexpr uint64_t kWindow = WriteBehind::kWindowBytes;

std::string Content(size_t size) {
  std::string s(size, '\0');
  uint32_t x = 2463534242u;
  for (char& c : s) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x);
  }
  return s;
}

std::string ReadWhole(int fd, size_t size) {
  std::string out(size + 1, '\0');
  const ssize_t n = ::pread(fd, out.data(), out.size(), 0);
  out.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return out;
}

class WriteBehindTest : public ::testing::Test {
 protected:
  ScopedFd NewFile(const char* name, int flags = O_RDWR) {
    const std::string path = tree_.root() + "/" + name;
    return ScopedFd(::open(path.c_str(), flags | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  }
  TestTree tree_;
};

// Pieces of uneven sizes, across several windows: the file holds exactly what was appended, and
// the write-back was started at each window boundary crossed, not before.
TEST_F(WriteBehindTest, WritesEveryByteAndStartsTheWriteBackPerWindow) {
  const std::string content = Content(2 * kWindow + 12345);
  ScopedFd fd = NewFile("staged");
  ASSERT_TRUE(fd.valid());
  WriteBehind writer(fd.get(), "staged");
  EXPECT_TRUE(writer.Append("").ok());
  absl::string_view rest = content;
  size_t piece = 1;
  while (!rest.empty()) {
    const size_t n = std::min(rest.size(), piece);
    const uint64_t before = writer.written();
    ASSERT_TRUE(writer.Append(rest.substr(0, n)).ok());
    rest.remove_prefix(n);
    piece = piece * 3 + 7;  // 1, 10, 37, ... up to several MiB
    EXPECT_EQ(writer.written(), before + n);
    // Started whenever a whole window was pending, always up to what was written.
    EXPECT_LT(writer.written() - writer.write_back_started(), kWindow);
    if (writer.written() - before >= kWindow) {
      EXPECT_EQ(writer.write_back_started(), writer.written());
    }
  }
  EXPECT_GT(writer.write_back_started(), content.size() - kWindow);
  EXPECT_EQ(writer.written(), content.size());
  EXPECT_EQ(ReadWhole(fd.get(), content.size()), content);
}

// A file the write-back hint does not apply to (/dev/null: sync_file_range says ESPIPE) is
// written all the same.
TEST_F(WriteBehindTest, AFileWithoutWriteBackIsStillWritten) {
  ScopedFd fd(::open("/dev/null", O_WRONLY | O_CLOEXEC));
  ASSERT_TRUE(fd.valid());
  WriteBehind writer(fd.get(), "null");
  const std::string content = Content(kWindow + 1);
  EXPECT_TRUE(writer.Append(content).ok());
  EXPECT_EQ(writer.written(), content.size());
}

// A full disk as the writer sees it: the file-size limit (RLIMIT_FSIZE, with SIGXFSZ ignored, so
// write() fails with EFBIG) is RESOURCE_EXHAUSTED naming the file.
TEST_F(WriteBehindTest, AFileSizeLimitIsResourceExhausted) {
  ScopedFd fd = NewFile("limited");
  ASSERT_TRUE(fd.valid());
  struct rlimit old_limit;
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  struct sigaction ignore = {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction old_action;
  ASSERT_EQ(::sigaction(SIGXFSZ, &ignore, &old_action), 0);
  struct rlimit limit = old_limit;
  limit.rlim_cur = 1 << 20;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &limit), 0);
  WriteBehind writer(fd.get(), "dir/limited");
  const absl::Status first = writer.Append(Content(1 << 20));
  const absl::Status over = writer.Append("x");
  ::setrlimit(RLIMIT_FSIZE, &old_limit);
  ::sigaction(SIGXFSZ, &old_action, nullptr);
  EXPECT_TRUE(first.ok()) << first;
  EXPECT_TRUE(HasStatus(over, absl::StatusCode::kResourceExhausted, "cannot write 'dir/limited'"));
  EXPECT_EQ(writer.written(), uint64_t{1} << 20);
}

TEST_F(WriteBehindTest, AnFdNotOpenForWritingIsAnError) {
  ScopedFd created = NewFile("read_only");
  ASSERT_TRUE(created.valid());
  ScopedFd fd(::open((tree_.root() + "/read_only").c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(fd.valid());
  WriteBehind writer(fd.get(), "read_only");
  EXPECT_FALSE(writer.Append("data").ok());
  EXPECT_EQ(writer.written(), 0u);
}

}  // namespace
}  // namespace framerpc::file

#include "services/file/direct_writer.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/scoped_fd.h"
#include "gtest/gtest.h"

namespace framerpc::file {
namespace {

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

std::string ReadFile(const std::string& path) {
  std::string out;
  ScopedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  char buf[1 << 16];
  for (ssize_t n; (n = ::read(fd.get(), buf, sizeof(buf))) > 0;) out.append(buf, n);
  return out;
}

std::string TestDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

// Whether files in `dir` can be opened with O_DIRECT at all.
bool DirectSupported(const std::string& dir) {
  const std::string probe = dir + "/direct_probe";
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_DIRECT | O_CLOEXEC, 0600);
  if (fd >= 0) ::close(fd);
  ::unlink(probe.c_str());
  return fd >= 0;
}

// Writes `content` in pieces of `piece` bytes through a DirectWriter into a new file in `dir`
// and returns what the file holds afterwards.
std::string WriteThrough(const std::string& dir, const std::string& content, size_t piece,
                         bool* was_direct) {
  const std::string path = dir + "/direct_writer_test.bin";
  ScopedFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  EXPECT_TRUE(fd.valid());
  DirectWriter writer(fd.get(), content.size(), "the/file");
  *was_direct = writer.direct();
  for (size_t at = 0; at < content.size(); at += piece) {
    absl::Status s = writer.Append(absl::string_view(content).substr(at, piece));
    EXPECT_TRUE(s.ok()) << s;
  }
  absl::Status s = writer.Finish();
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_FALSE(writer.direct()) << "Finish leaves the page cache path for any later write";
  fd.reset();
  std::string got = ReadFile(path);
  ::unlink(path.c_str());
  return got;
}

TEST(DirectWriterTest, EverySizeAndPieceArrivesIntact) {
  const std::string dir = TestDir();
  const bool supported = DirectSupported(dir);
  const size_t kMiB = DirectWriter::kMaxBufferBytes;
  for (size_t size : {size_t{0}, size_t{1}, size_t{4095}, size_t{4096}, size_t{4097},
                      size_t{DirectWriter::kMinDirectBytes - 1}, size_t{DirectWriter::kMinDirectBytes},
                      kMiB - 1, kMiB, kMiB + 1, 3 * kMiB + 4097}) {
    const std::string content = Content(size);
    for (size_t piece : {size_t{1000}, size_t{65536}, size_t{3 << 20}}) {
      if (piece == 1000 && size > kMiB + 1) continue;  // slow and adds nothing
      bool was_direct = false;
      const std::string got = WriteThrough(dir, content, piece, &was_direct);
      EXPECT_EQ(got.size(), content.size()) << "size " << size << " piece " << piece;
      EXPECT_TRUE(got == content) << "size " << size << " piece " << piece;
      EXPECT_EQ(was_direct, supported && size >= DirectWriter::kMinDirectBytes)
          << "size " << size;
    }
  }
}

// A writer destroyed without Finish (an upload that failed) hands the fd back without O_DIRECT.
TEST(DirectWriterTest, DestructorClearsODirect) {
  const std::string path = TestDir() + "/direct_writer_abandoned.bin";
  ScopedFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  ASSERT_TRUE(fd.valid());
  {
    DirectWriter writer(fd.get(), 4 * DirectWriter::kMaxBufferBytes, "abandoned");
    if (!writer.direct()) GTEST_SKIP() << "no O_DIRECT in " << TestDir();
    EXPECT_NE(::fcntl(fd.get(), F_GETFL) & O_DIRECT, 0);
    EXPECT_TRUE(writer.Append(Content(DirectWriter::kMaxBufferBytes + 5)).ok());
  }
  EXPECT_EQ(::fcntl(fd.get(), F_GETFL) & O_DIRECT, 0);
  ::unlink(path.c_str());
}

// A file that refuses O_DIRECT (here a socket, as tmpfs did before Linux 6.6) is written through
// the normal path, with the same content.
TEST(DirectWriterTest, FileThatRefusesODirectIsWrittenNormally) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  ScopedFd writing(sv[0]);
  ScopedFd reading(sv[1]);
  const std::string content = Content(2 * DirectWriter::kMaxBufferBytes + 17);
  std::string got;
  std::thread reader([&] {
    char buf[1 << 16];
    for (ssize_t n; (n = ::read(reading.get(), buf, sizeof(buf))) > 0;) got.append(buf, n);
  });
  DirectWriter writer(writing.get(), content.size(), "a/socket");
  EXPECT_FALSE(writer.direct());
  absl::Status s = writer.Append(content);
  EXPECT_TRUE(s.ok()) << s;
  s = writer.Finish();
  EXPECT_TRUE(s.ok()) << s;
  ::shutdown(writing.get(), SHUT_WR);
  reader.join();
  EXPECT_TRUE(got == content);
}

TEST(DirectWriterTest, WriteErrorsNameTheFile) {
  const std::string path = TestDir() + "/direct_writer_readonly.bin";
  { ScopedFd create(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)); }
  ScopedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));  // every write fails with EBADF
  for (uint64_t size : {uint64_t{100}, uint64_t{4} << 20}) {
    DirectWriter writer(fd.get(), size, "up/load.bin");
    const std::string content = Content(static_cast<size_t>(size));
    absl::Status status = writer.Append(content);
    if (status.ok()) status = writer.Finish();
    EXPECT_FALSE(status.ok());
    EXPECT_NE(status.message().find("cannot write 'up/load.bin'"), absl::string_view::npos)
        << status;
  }
  ::unlink(path.c_str());
}

}  // namespace
}  // namespace framerpc::file

#include "services/command/fd_util.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>

#include <cerrno>

#include "gtest/gtest.h"

namespace framerpc::command {
namespace {

bool IsCloseOnExec(int fd) { return (::fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0; }

TEST(FdUtilTest, PipeIsCloseOnExecAndBlocking) {
  absl::StatusOr<Pipe> pipe = MakePipe();
  ASSERT_TRUE(pipe.ok()) << pipe.status();
  EXPECT_TRUE(IsCloseOnExec(pipe->read_end.get()));
  EXPECT_TRUE(IsCloseOnExec(pipe->write_end.get()));
  EXPECT_EQ(::fcntl(pipe->read_end.get(), F_GETFL) & O_NONBLOCK, 0);
  ASSERT_TRUE(SetNonBlocking(pipe->read_end.get()).ok());
  EXPECT_NE(::fcntl(pipe->read_end.get(), F_GETFL) & O_NONBLOCK, 0);
}

// With stdin and stdout closed, pipe2 would hand out 0 and 1; MakePipe moves them above 2.
TEST(FdUtilTest, PipeAvoidsStandardDescriptorNumbers) {
  const int saved_in = ::fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 10);
  const int saved_out = ::fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 10);
  ASSERT_GE(saved_in, 0);
  ASSERT_GE(saved_out, 0);
  ::close(STDIN_FILENO);
  ::close(STDOUT_FILENO);
  absl::StatusOr<Pipe> pipe = MakePipe();
  const int read_fd = pipe.ok() ? pipe->read_end.get() : -1;
  const int write_fd = pipe.ok() ? pipe->write_end.get() : -1;
  const bool both_cloexec =
      pipe.ok() && IsCloseOnExec(pipe->read_end.get()) && IsCloseOnExec(pipe->write_end.get());
  pipe = absl::UnknownError("released");  // closes the pipe before stdio is restored
  ::dup2(saved_in, STDIN_FILENO);
  ::dup2(saved_out, STDOUT_FILENO);
  ::close(saved_in);
  ::close(saved_out);
  EXPECT_GT(read_fd, STDERR_FILENO);
  EXPECT_GT(write_fd, STDERR_FILENO);
  EXPECT_TRUE(both_cloexec);
}

TEST(FdUtilTest, ScopedFdClosesAndMoves) {
  absl::StatusOr<Pipe> pipe = MakePipe();
  ASSERT_TRUE(pipe.ok());
  const int fd = pipe->read_end.get();
  ScopedFd moved(std::move(pipe->read_end));
  EXPECT_FALSE(pipe->read_end.valid());
  EXPECT_EQ(moved.get(), fd);
  moved.reset();
  EXPECT_EQ(::fcntl(fd, F_GETFD), -1);
  EXPECT_EQ(errno, EBADF);
}

// SIGPIPE's default action would kill this test if the write raised it.
TEST(FdUtilTest, WriteToClosedPipeFailsWithEpipeAndNoSignal) {
  absl::StatusOr<Pipe> pipe = MakePipe();
  ASSERT_TRUE(pipe.ok());
  pipe->read_end.reset();
  errno = 0;
  EXPECT_EQ(WriteWithoutSigpipe(pipe->write_end.get(), "x", 1), -1);
  EXPECT_EQ(errno, EPIPE);
  sigset_t pending;
  sigpending(&pending);
  EXPECT_FALSE(sigismember(&pending, SIGPIPE));
}

// A SIGPIPE that was already pending (blocked by the caller) is not swallowed.
TEST(FdUtilTest, PreviouslyPendingSigpipeIsPreserved) {
  sigset_t pipe_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  sigset_t old;
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &pipe_set, &old), 0);
  ASSERT_EQ(::pthread_kill(::pthread_self(), SIGPIPE), 0);

  absl::StatusOr<Pipe> pipe = MakePipe();
  ASSERT_TRUE(pipe.ok());
  pipe->read_end.reset();
  EXPECT_EQ(WriteWithoutSigpipe(pipe->write_end.get(), "x", 1), -1);
  sigset_t pending;
  sigpending(&pending);
  EXPECT_TRUE(sigismember(&pending, SIGPIPE));

  const timespec zero = {0, 0};
  EXPECT_EQ(::sigtimedwait(&pipe_set, nullptr, &zero), SIGPIPE);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

TEST(FdUtilTest, WriteSucceedsNormally) {
  absl::StatusOr<Pipe> pipe = MakePipe();
  ASSERT_TRUE(pipe.ok());
  EXPECT_EQ(WriteWithoutSigpipe(pipe->write_end.get(), "abc", 3), 3);
  char buf[4] = {};
  EXPECT_EQ(::read(pipe->read_end.get(), buf, sizeof buf), 3);
  EXPECT_STREQ(buf, "abc");
}

}  // namespace
}  // namespace framerpc::command

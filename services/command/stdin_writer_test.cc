// Streamed stdin: Process::TakeStdinPipe() fed by a StdinWriter on another thread while Wait()
// runs, as the command service's Exec does.
#include "services/command/stdin_writer.h"

#include <memory>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "services/command/process.h"
#include "services/command/process_test_util.h"
#include "services/command/shell_command.h"

namespace framerpc::command {
namespace {

using test::Options;

std::unique_ptr<Process> SpawnStreaming(std::vector<std::string> argv) {
  ProcessOptions options = Options(std::move(argv));
  options.stdin_stream = true;
  options.stdout_limit = 64 << 20;
  absl::StatusOr<std::unique_ptr<Process>> process = Process::Spawn(std::move(options));
  EXPECT_TRUE(process.ok()) << process.status();
  return process.ok() ? *std::move(process) : nullptr;
}

StdinWriter WriterFor(Process& process) {
  ScopedFd pipe = process.TakeStdinPipe();
  EXPECT_TRUE(pipe.valid());
  EXPECT_FALSE(process.TakeStdinPipe().valid());  // once only
  return StdinWriter::Create(std::move(pipe)).value();
}

TEST(StdinWriterTest, StreamsThroughCatWhileOutputIsRead) {
  std::unique_ptr<Process> process = SpawnStreaming({"/bin/cat"});
  ASSERT_NE(process, nullptr);
  StdinWriter writer = WriterFor(*process);
  // More than a pipe holds in each direction: cat blocks on stdout unless Wait() reads, and we
  // block on stdin unless cat reads.
  std::string input(4 << 20, '\0');
  for (size_t i = 0; i < input.size(); ++i) input[i] = static_cast<char>((i * 7919) >> 5);
  std::thread feeder([&] {
    for (size_t at = 0; at < input.size(); at += 100000) {
      EXPECT_TRUE(writer.Write(absl::string_view(input).substr(at, 100000)));
    }
    writer.Close();
  });
  ProcessOutput out = WaitAndCollect(*process);
  feeder.join();
  EXPECT_EQ(out.result.exit_code, 0) << out.result.DebugString();
  EXPECT_TRUE(out.stdout_bytes == input) << out.stdout_bytes.size();
}

TEST(StdinWriterTest, WriteFailsOnceTheCommandClosedItsStdin) {
  // `head -c 1` reads (at most a pipe's worth), prints one byte and exits; later writes fail
  // with EPIPE instead of raising SIGPIPE or blocking.
  std::unique_ptr<Process> process = SpawnStreaming({"/usr/bin/head", "-c", "1"});
  ASSERT_NE(process, nullptr);
  StdinWriter writer = WriterFor(*process);
  ProcessOutput out;
  std::thread waiter([&] { out = WaitAndCollect(*process); });
  const std::string block(1 << 16, 'x');
  bool ok = true;
  for (int i = 0; i < 1000 && ok; ++i) ok = writer.Write(block);
  EXPECT_FALSE(ok);
  EXPECT_FALSE(writer.Write("more"));
  waiter.join();
  EXPECT_EQ(out.stdout_bytes, "x");
  EXPECT_EQ(out.result.exit_code, 0) << out.result.DebugString();
}

TEST(StdinWriterTest, AbandonReleasesAWriteBlockedOnAFullPipe) {
  // sleep never reads: the second pipe-full blocks until Abandon().
  std::unique_ptr<Process> process = SpawnStreaming({"/bin/sleep", "1000"});
  ASSERT_NE(process, nullptr);
  StdinWriter writer = WriterFor(*process);
  bool result = true;
  std::thread feeder([&] { result = writer.Write(std::string(4 << 20, 'x')); });
  writer.Abandon();
  feeder.join();
  EXPECT_FALSE(result);
  EXPECT_FALSE(writer.Write("x"));
  process->Kill();
  EXPECT_TRUE(process->Wait(nullptr).cancelled);
}

TEST(StdinWriterTest, ClosingGivesTheCommandEof) {
  std::unique_ptr<Process> process = SpawnStreaming({"/usr/bin/wc", "-c"});
  ASSERT_NE(process, nullptr);
  StdinWriter writer = WriterFor(*process);
  EXPECT_TRUE(writer.Write("12345"));
  writer.Close();
  EXPECT_FALSE(writer.Write("x"));
  ProcessOutput out = WaitAndCollect(*process);
  EXPECT_EQ(out.stdout_bytes, "5\n");
}

TEST(StdinWriterTest, PipeNotTakenBeforeWaitIsClosed) {
  std::unique_ptr<Process> process = SpawnStreaming({"/usr/bin/wc", "-c"});
  ASSERT_NE(process, nullptr);
  ProcessOutput out = WaitAndCollect(*process);
  EXPECT_EQ(out.stdout_bytes, "0\n");
  EXPECT_FALSE(process->TakeStdinPipe().valid());
}

TEST(StdinWriterTest, StdinStreamExcludesStdinBytes) {
  ProcessOptions options = Options({"/bin/cat"});
  options.stdin_stream = true;
  options.stdin_bytes = "x";
  EXPECT_EQ(Process::Spawn(std::move(options)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(StdinWriterTest, NoPipeWithoutStdinStream) {
  absl::StatusOr<std::unique_ptr<Process>> process = Process::Spawn(Options({"/bin/true"}));
  ASSERT_TRUE(process.ok());
  EXPECT_FALSE((*process)->TakeStdinPipe().valid());
}

}  // namespace
}  // namespace framerpc::command

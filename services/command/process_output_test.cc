// stdin, stdout and stderr: delivery, ordering, volume, and the output caps.
#include <signal.h>
#include <string.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>

#include "gtest/gtest.h"
#include "services/command/process.h"
#include "services/command/process_test_util.h"
#include "services/command/shell_command.h"

namespace framerpc::command {
namespace {

using test::Options;
using test::RunChecked;

TEST(ProcessOutputTest, StdoutAndStderrSeparatedAndInOrder) {
  ProcessOutput out = RunChecked(Options(ShellCommandArgv(
      "for i in $(seq 1 300); do echo out$i; echo err$i >&2; done")));
  std::string want_out;
  std::string want_err;
  for (int i = 1; i <= 300; ++i) {
    want_out += "out" + std::to_string(i) + "\n";
    want_err += "err" + std::to_string(i) + "\n";
  }
  EXPECT_EQ(out.stdout_bytes, want_out);
  EXPECT_EQ(out.stderr_bytes, want_err);
  EXPECT_EQ(out.result.exit_code, 0);
}

TEST(ProcessOutputTest, CallbackGetsNonEmptyChunksTaggedByStream) {
  absl::StatusOr<std::unique_ptr<Process>> process =
      Process::Spawn(Options(ShellCommandArgv("echo to-out; echo to-err >&2")));
  ASSERT_TRUE(process.ok()) << process.status();
  std::string out;
  std::string err;
  bool empty_chunk = false;
  (*process)->Wait([&](Stream which, absl::string_view bytes) {
    empty_chunk |= bytes.empty();
    (which == Stream::kStdout ? out : err).append(bytes.data(), bytes.size());
  });
  EXPECT_FALSE(empty_chunk);
  EXPECT_EQ(out, "to-out\n");
  EXPECT_EQ(err, "to-err\n");
}

TEST(ProcessOutputTest, StdinIsDevNullByDefault) {
  ProcessOutput out = RunChecked(Options(ShellCommandArgv("readlink /proc/self/fd/0; cat")));
  EXPECT_EQ(out.stdout_bytes, "/dev/null\n");
  EXPECT_EQ(out.result.exit_code, 0);
}

TEST(ProcessOutputTest, StdinRoundTripThroughCat) {
  ProcessOptions options = Options({"/bin/cat"});
  options.stdin_bytes = "hello\nworld";
  ProcessOutput out = RunChecked(std::move(options));
  EXPECT_EQ(out.stdout_bytes, "hello\nworld");
  EXPECT_EQ(out.result.exit_code, 0);
}

TEST(ProcessOutputTest, EmptyStdinIsImmediateEof) {
  ProcessOptions options = Options({"/bin/cat"});
  options.stdin_bytes = "";
  ProcessOutput out = RunChecked(std::move(options));
  EXPECT_EQ(out.stdout_bytes, "");
  EXPECT_EQ(out.result.exit_code, 0);
}

// cat writes while we write: a runner that blocked on stdin would deadlock once both pipes fill.
TEST(ProcessOutputTest, TenMebibytesOfStdinThroughCatWithoutDeadlock) {
  std::string input(10 << 20, '\0');
  std::mt19937 rng(42);
  std::generate(input.begin(), input.end(), [&rng] { return static_cast<char>(rng()); });
  ProcessOptions options = Options({"/bin/cat"});
  options.stdin_bytes = input;
  options.stdout_limit = 16 << 20;
  ProcessOutput out = RunChecked(std::move(options));
  EXPECT_EQ(out.result.exit_code, 0) << out.result.DebugString();
  EXPECT_FALSE(out.result.stdout_truncated);
  ASSERT_EQ(out.stdout_bytes.size(), input.size());
  EXPECT_TRUE(out.stdout_bytes == input);
}

// The child never reads stdin: our write fails with EPIPE, which must not raise SIGPIPE here
// (its default action would kill this test).
TEST(ProcessOutputTest, ChildIgnoringStdinDoesNotHurtTheRunner) {
  ProcessOptions options = Options({"/bin/true"});
  options.stdin_bytes = std::string(10 << 20, 'x');
  ProcessOutput out = RunChecked(std::move(options));
  EXPECT_EQ(out.result.exit_code, 0) << out.result.DebugString();
}

// Checks a stream against an endless repetition of `line` without storing it.
class PatternChecker {
 public:
  explicit PatternChecker(std::string line) : period_(line.size()) {
    while (window_.size() < kWindow + period_) window_ += line;
  }
  void Consume(absl::string_view bytes) {
    while (!bytes.empty()) {
      const size_t n = std::min(bytes.size(), kWindow);
      if (::memcmp(bytes.data(), window_.data() + total_ % period_, n) != 0) ++mismatches_;
      total_ += n;
      bytes.remove_prefix(n);
    }
  }
  uint64_t total() const { return total_; }
  int mismatches() const { return mismatches_; }

 private:
  static constexpr size_t kWindow = 1 << 20;
  const size_t period_;
  std::string window_;
  uint64_t total_ = 0;
  int mismatches_ = 0;
};

TEST(ProcessOutputTest, HundredMebibytesArriveByteIdentical) {
  constexpr uint64_t kSize = uint64_t{100} << 20;
  ProcessOptions options = Options(
      ShellCommandArgv(absl::StrCat("yes framerpc-0123456789 | head -c ", kSize)));
  options.stdout_limit = kSize + 1;
  absl::StatusOr<std::unique_ptr<Process>> process = Process::Spawn(std::move(options));
  ASSERT_TRUE(process.ok()) << process.status();
  PatternChecker checker("framerpc-0123456789\n");
  std::string err;
  ProcessResult result = (*process)->Wait([&](Stream which, absl::string_view bytes) {
    if (which == Stream::kStdout) {
      checker.Consume(bytes);
    } else {
      err.append(bytes.data(), bytes.size());
    }
  });
  EXPECT_EQ(result.exit_code, 0) << result.DebugString() << " " << err;
  EXPECT_EQ(checker.total(), kSize);
  EXPECT_EQ(checker.mismatches(), 0);
  EXPECT_FALSE(result.stdout_truncated);
}

// kill_on_output_limit (the default): `yes` would never stop, so the cap ends it with SIGTERM.
TEST(ProcessOutputTest, YesIsCappedAndTerminated) {
  ProcessOutput out = RunChecked(Options({"/usr/bin/yes"}));
  EXPECT_EQ(out.stdout_bytes.size(), kDefaultOutputLimit);
  EXPECT_EQ(out.stdout_bytes.find_first_not_of("y\n"), std::string::npos);
  EXPECT_TRUE(out.result.stdout_truncated);
  EXPECT_FALSE(out.result.stderr_truncated);
  EXPECT_EQ(out.result.term_signal, SIGTERM) << out.result.DebugString();
  EXPECT_FALSE(out.result.timed_out);
  EXPECT_FALSE(out.result.cancelled);
}

TEST(ProcessOutputTest, OutputOfExactlyTheLimitIsNotTruncated) {
  ProcessOptions options = Options({"/usr/bin/head", "-c", "1000", "/dev/zero"});
  options.stdout_limit = 1000;
  ProcessOutput out = RunChecked(std::move(options));
  EXPECT_EQ(out.stdout_bytes.size(), 1000u);
  EXPECT_FALSE(out.result.stdout_truncated);
  EXPECT_EQ(out.result.exit_code, 0) << out.result.DebugString();
}

// Without kill_on_output_limit the excess is read and discarded, so the command runs to its end.
TEST(ProcessOutputTest, OverLimitIsDrainedWhenNotKilling) {
  ProcessOptions options = Options({"/usr/bin/head", "-c", "3000000", "/dev/zero"});
  options.stdout_limit = 1000;
  options.kill_on_output_limit = false;
  ProcessOutput out = RunChecked(std::move(options));
  EXPECT_EQ(out.stdout_bytes, std::string(1000, '\0'));
  EXPECT_TRUE(out.result.stdout_truncated);
  EXPECT_EQ(out.result.exit_code, 0) << out.result.DebugString();
}

TEST(ProcessOutputTest, StderrHasItsOwnLimit) {
  ProcessOptions options =
      Options(ShellCommandArgv("head -c 500000 /dev/zero >&2; echo done"));
  options.stderr_limit = 100;
  options.kill_on_output_limit = false;
  ProcessOutput out = RunChecked(std::move(options));
  EXPECT_EQ(out.stderr_bytes.size(), 100u);
  EXPECT_TRUE(out.result.stderr_truncated);
  EXPECT_EQ(out.stdout_bytes, "done\n");
  EXPECT_FALSE(out.result.stdout_truncated);
  EXPECT_EQ(out.result.exit_code, 0);
}

TEST(ProcessOutputTest, ZeroLimitDeliversNothing) {
  ProcessOptions options = Options({"/bin/echo", "hi"});
  options.stdout_limit = 0;
  options.kill_on_output_limit = false;
  int chunks = 0;
  absl::StatusOr<std::unique_ptr<Process>> process = Process::Spawn(std::move(options));
  ASSERT_TRUE(process.ok()) << process.status();
  ProcessResult result = (*process)->Wait([&](Stream, absl::string_view) { ++chunks; });
  EXPECT_EQ(chunks, 0);
  EXPECT_TRUE(result.stdout_truncated);
  EXPECT_EQ(result.exit_code, 0);
}

}  // namespace
}  // namespace framerpc::command

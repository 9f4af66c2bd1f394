// Runs one command as a supervised child process: the transport-independent core of the command
// service (unary Run collects output with RunToCompletion; streaming Exec forwards the chunks the
// OutputCallback receives).
//
// What a command gets:
//  - argv executed directly (posix_spawn, never a shell); argv[0] is resolved against the PATH of
//    the child's environment before spawning, so a missing program is NOT_FOUND, not exit 127.
//    A shell string is only run through shell_command.h, which callers gate explicitly.
//  - its own process group; stdin from /dev/null, or a pipe fed with `stdin_bytes` or by the
//    caller (`stdin_stream`, TakeStdinPipe()); stdout and stderr to pipes; no other open
//    descriptors; only the environment the caller passes (plus PATH=kDefaultPath if it passes
//    none); signal dispositions reset to default.
//
// What the runner guarantees:
//  - stdin is written, and stdout/stderr read, through non-blocking descriptors in one poll loop,
//    so a child that fills its output pipes before reading stdin cannot deadlock with us.
//  - each stream delivers at most its limit; more output is read and discarded (the child never
//    blocks on a full pipe) and the stream is marked truncated. With kill_on_output_limit (the
//    default) going over a limit also terminates the command as below.
//  - termination (timeout or output limit): SIGTERM to the whole group, then SIGKILL to the group
//    `kill_grace` later if the leader is still alive. Kill(): SIGKILL to the group at once.
//  - when the leader exits, whatever it wrote before exiting is delivered, then the rest of its
//    group is SIGKILLed (a backgrounded `sleep 1000 &` does not outlive the command), the leader
//    is reaped (no zombie), and output is drained until EOF for at most `kill_grace` more.
//  - signals only ever go to the group while the leader is unreaped: its pid, and so the group id,
//    cannot have been reused by an unrelated process.
//
// Limits: a descendant that leaves the group (setsid/setpgid) escapes the group kill; only a cgroup
// can contain that. Killed descendants are reparented to init (or the nearest subreaper), which
// reaps them; we do not make this process a subreaper, as that would hand us every orphan of every
// descendant. The process must not set SIGCHLD to SIG_IGN or reap with waitpid(-1), which would
// steal our child's exit status.
#ifndef FRAMERPC_SERVICES_COMMAND_PROCESS_H_
#define FRAMERPC_SERVICES_COMMAND_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/command/fd_util.h"
#include "services/command/program_path.h"  // kDefaultPath

namespace framerpc::command {

enum class Stream { kStdout, kStderr };

// "stdout" / "stderr".
absl::string_view StreamName(Stream stream);

inline constexpr size_t kDefaultOutputLimit = size_t{1} << 20;  // 1 MiB per stream

struct ProcessOptions {
  std::vector<std::string> argv;  // required; argv[0] names the program
  // The child's entire environment. Names must be non-empty without '=' or NUL; values without
  // NUL. PATH is added as kDefaultPath if absent, and is also what argv[0] is resolved against.
  std::map<std::string, std::string> env;
  std::string working_directory;           // absolute; empty: inherit this process's directory
  std::optional<std::string> stdin_bytes;  // nullopt: stdin is /dev/null
  // Instead of stdin_bytes: stdin is a pipe that the caller feeds through TakeStdinPipe().
  bool stdin_stream = false;
  size_t stdout_limit = kDefaultOutputLimit;
  size_t stderr_limit = kDefaultOutputLimit;
  bool kill_on_output_limit = true;
  absl::Duration timeout = absl::InfiniteDuration();  // from spawn; must be > 0
  absl::Duration kill_grace = absl::Seconds(2);       // SIGTERM -> SIGKILL; must be >= 0
};

struct ProcessResult {
  // Exactly one is set, unless the exit status was lost (someone else reaped the child).
  std::optional<int> exit_code;    // normal exit
  std::optional<int> term_signal;  // killed by this signal
  absl::Duration duration;         // spawn to reap
  bool stdout_truncated = false;   // the command wrote more than stdout_limit
  bool stderr_truncated = false;
  bool timed_out = false;          // the timeout expired before the leader exited
  bool cancelled = false;          // Kill() took effect before the leader exited

  std::string DebugString() const;
};

// The RPC status for how the command ended, independent of its exit code: DEADLINE_EXCEEDED if
// it timed out, CANCELLED if it was killed, otherwise OK (a non-zero exit is the command's result,
// not an RPC failure).
absl::Status TerminationStatus(const ProcessResult& result);

// Receives output in the order each stream produced it, on the thread running Wait(). A chunk is
// never empty, and the bytes are valid only during the call. The callback must not call Wait() or
// destroy the Process; it may call Kill().
using OutputCallback = std::function<void(Stream which, absl::string_view bytes)>;

// One running command. Create with Spawn, then call Wait once.
//
// Thread safety: Kill() may be called from any thread while the object is alive (including
// before or during Wait()); everything else is for one thread at a time. Lifetime: the destructor
// SIGKILLs the group and reaps the child if Wait() has not, so destroying a Process never leaves a
// zombie or a running command behind; it must not race with Kill().
class Process {
 public:
  // Validates `options`, resolves the program and starts it. Errors: INVALID_ARGUMENT (empty argv,
  // bad env name, relative or non-directory working directory, bad timeout, both stdin_bytes and
  // stdin_stream), NOT_FOUND (program or working directory missing), PERMISSION_DENIED (program
  // not executable), or the spawn failure.
  static absl::StatusOr<std::unique_ptr<Process>> Spawn(ProcessOptions options);

  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }  // also the process-group id

  // With options.stdin_stream, the first call returns the write end of the child's stdin pipe
  // (O_NONBLOCK, O_CLOEXEC); write to it with WriteWithoutSigpipe, from any thread, and close it
  // for EOF. Invalid otherwise, on later calls, and once Wait() has started: a pipe not taken
  // before Wait() is closed there, so the child sees EOF rather than hanging.
  ScopedFd TakeStdinPipe();

  // Runs the I/O loop on the calling thread until the leader has been reaped and its output
  // drained; `on_output` may be null to discard output. Subsequent calls return the same result
  // without running anything.
  ProcessResult Wait(const OutputCallback& on_output);

  // Asks the Wait() loop to SIGKILL the process group; returns at once. Takes effect when Wait()
  // runs (immediately if it is running); has no effect once the leader has been reaped.
  // Async-signal-safe.
  void Kill();

 private:
  class Loop;
  Process(ProcessOptions options, std::string stdin_bytes, pid_t pid);

  const ProcessOptions options_;  // without stdin_bytes, which moved to stdin_bytes_
  std::string stdin_bytes_;       // released once written
  const pid_t pid_;
  const std::chrono::steady_clock::time_point start_;
  ScopedFd pidfd_;
  ScopedFd kill_event_;  // eventfd written by Kill(), watched by Wait()
  ScopedFd stdin_write_;
  ScopedFd stdout_read_;
  ScopedFd stderr_read_;
  bool reaped_ = false;
  bool wait_started_ = false;
  std::optional<ProcessResult> result_;
};

// Output collected by RunToCompletion: at most the options' limits of each stream.
struct ProcessOutput {
  ProcessResult result;
  std::string stdout_bytes;
  std::string stderr_bytes;
};

// Spawn + Wait, collecting the output. Errors are Spawn's; how the command ended is in `result`.
absl::StatusOr<ProcessOutput> RunToCompletion(ProcessOptions options);

// Wait(), collecting the output, for callers that keep the Process to Kill() it.
ProcessOutput WaitAndCollect(Process& process);

}  // namespace framerpc::command

#endif  // FRAMERPC_SERVICES_COMMAND_PROCESS_H_

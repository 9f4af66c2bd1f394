// Runs one command as a supervised child process: the transport-independent core of the command
// service (unary Run collects output with RunToCompletion; streaming Exec forwards the chunks the
// OutputCallback receives).
//
// What a command gets:
//  - argv executed directly (never a shell), from a file opened before spawning and executed
//    through that descriptor (execveat): the caller's verified `executable`, or argv[0] resolved
//    against the PATH of the child's environment, so a missing program is NOT_FOUND, not exit
//    127. A shell string is only run through shell_command.h, which callers gate explicitly.
//  - a supervisor of its own (spawn.h, supervisor.h) that contains it and everything it starts
//    (containment.h): in a PID namespace, or as a child subreaper.
//  - its own process group; stdin from /dev/null, or a pipe fed with `stdin_bytes` or by the
//    caller (`stdin_stream`, TakeStdinPipe()); stdout and stderr to pipes; no other open
//    descriptors; only the environment the caller passes (plus PATH=kDefaultPath if it passes
//    none); signal dispositions reset to default; optional resource limits.
//
// What the runner guarantees:
//  - stdin is written, and stdout/stderr read, through non-blocking descriptors in one poll loop,
//    so a child that fills its output pipes before reading stdin cannot deadlock with us.
//  - each stream delivers at most its limit; more output is read and discarded (the child never
//    blocks on a full pipe) and the stream is marked truncated. With kill_on_output_limit (the
//    default) going over a limit also terminates the command as below.
//  - termination (timeout or output limit): SIGTERM (then SIGCONT) to the command's process group,
//    then, `kill_grace` later if the command is still running, SIGKILL to every process of it,
//    wherever it went (setsid, double fork). Kill(): SIGKILL to every process at once.
//  - when the command exits, everything it left behind is killed; the supervisor reports how the
//    command ended and exits once nothing of it is left. The result is the command's exit status
//    or signal, never the supervisor's. Then output is drained until EOF for at most
//    `kill_grace` more (a process outside, handed the pipe, could hold it open).
//  - signals only ever go to the supervisor, and only while it is unreaped: its pid cannot have
//    been reused by an unrelated process.
//
// The process must not reap with waitpid(-1), which would steal the supervisor's exit.
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
#include "services/command/containment.h"
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
  // The file to execute, as the caller opened and checked it (OpenExecutable). Invalid: argv[0]
  // is resolved against PATH (or, containing '/', against working_directory) and opened.
  ScopedFd executable;
  // The directory to run in (OpenWorkingDirectory, or an O_PATH directory descriptor). Invalid:
  // this process's directory.
  ScopedFd working_directory;
  std::optional<std::string> stdin_bytes;  // nullopt: stdin is /dev/null
  // Instead of stdin_bytes: stdin is a pipe that the caller feeds through TakeStdinPipe().
  bool stdin_stream = false;
  size_t stdout_limit = kDefaultOutputLimit;
  size_t stderr_limit = kDefaultOutputLimit;
  bool kill_on_output_limit = true;
  absl::Duration timeout = absl::InfiniteDuration();  // from spawn; must be > 0
  absl::Duration kill_grace = absl::Seconds(2);       // SIGTERM -> SIGKILL; must be >= 0
  Containment containment = Containment::kSubreaper;
  // Per-process limits, inherited by everything the command starts. RLIMIT_AS in bytes.
  std::optional<uint64_t> address_space_limit;
  // RLIMIT_CPU, rounded up to whole seconds: SIGXCPU when a process has used that much CPU time,
  // SIGKILL a second later. Must be > 0.
  std::optional<absl::Duration> cpu_limit;
};

struct ProcessResult {
  // Exactly one is set, unless the exit status was lost (the supervisor was killed before it
  // could report it, which only a process of this host's with the right to signal it can do).
  std::optional<int> exit_code;    // normal exit
  std::optional<int> term_signal;  // killed by this signal
  absl::Duration duration;         // spawn to reap
  bool stdout_truncated = false;   // the command wrote more than stdout_limit
  bool stderr_truncated = false;
  bool timed_out = false;          // the timeout expired before the command exited
  bool cancelled = false;          // Kill() took effect before the command exited

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
// kills the command and everything it started, and reaps the supervisor, if Wait() has not, so
// destroying a Process never leaves a zombie or a running process behind; it must not race with
// Kill().
class Process {
 public:
  // Validates `options`, resolves the program and starts it. Errors: INVALID_ARGUMENT (empty argv,
  // bad env name, bad timeout or limit, both stdin_bytes and stdin_stream), NOT_FOUND (program
  // missing), PERMISSION_DENIED (program not executable), or the spawn failure (spawn.h).
  static absl::StatusOr<std::unique_ptr<Process>> Spawn(ProcessOptions options);

  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  // The supervisor's pid in this process's namespace (the command's own pid is the supervisor's
  // business, and in a PID namespace means nothing here).
  pid_t pid() const { return pid_; }

  // With options.stdin_stream, the first call returns the write end of the child's stdin pipe
  // (O_NONBLOCK, O_CLOEXEC); write to it with WriteWithoutSigpipe, from any thread, and close it
  // for EOF. Invalid otherwise, on later calls, and once Wait() has started: a pipe not taken
  // before Wait() is closed there, so the child sees EOF rather than hanging.
  ScopedFd TakeStdinPipe();

  // Runs the I/O loop on the calling thread until the command and everything it started are gone
  // and the output is drained; `on_output` may be null to discard output. Subsequent calls return
  // the same result without running anything.
  ProcessResult Wait(const OutputCallback& on_output);
  // What Wait() returned; unset until it has.
  const std::optional<ProcessResult>& result() const { return result_; }

  // Asks the Wait() loop to SIGKILL every process of the command; returns at once. Takes effect
  // when Wait() runs (immediately if it is running); has no effect once the command has exited.
  // Async-signal-safe.
  void Kill();

 private:
  class Loop;
  Process(ProcessOptions options, std::string stdin_bytes, pid_t pid);

  const ProcessOptions options_;  // without stdin_bytes (moved to stdin_bytes_) and the fds
  std::string stdin_bytes_;       // released once written
  const pid_t pid_;
  const std::chrono::steady_clock::time_point start_;
  ScopedFd pidfd_;        // the supervisor's
  ScopedFd status_read_;  // the supervisor's report (SupervisorMessage)
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

#include "services/command/process.h"

#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "services/command/output_limit.h"
#include "services/command/executable.h"
#include "services/command/program_path.h"
#include "services/command/raw_syscall.h"
#include "services/command/spawn.h"
#include "services/command/supervisor.h"

namespace framerpc::command {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kReadChunk = 64 * 1024;
// How much already-buffered output of each stream is delivered at once when the supervisor exits.
// Bounded so that a process outside writing without pause cannot hold us there.
constexpr size_t kExitDrainBudget = size_t{4} << 20;

Clock::time_point After(Clock::time_point now, absl::Duration d) {
  // Anything beyond ~100 years is "never"; this also keeps the addition from overflowing.
  if (d > absl::Hours(24 * 365 * 100)) return Clock::time_point::max();
  return now + std::chrono::duration_cast<Clock::duration>(absl::ToChronoNanoseconds(d));
}

absl::Status ValidateOptions(const ProcessOptions& options) {
  if (options.argv.empty()) return absl::InvalidArgumentError("empty argv");
  for (const std::string& arg : options.argv) {
    if (arg.find('\0') != std::string::npos) {
      return absl::InvalidArgumentError("argv element contains a NUL byte");
    }
  }
  for (const auto& [name, value] : options.env) {
    if (name.empty() || name.find_first_of(std::string("=\0", 2)) != std::string::npos ||
        value.find('\0') != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid environment variable name or value: '", name, "'"));
    }
  }
  if (options.stdin_stream && options.stdin_bytes.has_value()) {
    return absl::InvalidArgumentError("stdin_bytes and stdin_stream are exclusive");
  }
  if (options.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("timeout must be positive");
  }
  if (options.kill_grace < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("kill_grace must not be negative");
  }
  if (options.cpu_limit.has_value() && *options.cpu_limit <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("cpu_limit must be positive");
  }
  if (options.address_space_limit == uint64_t{0}) {
    return absl::InvalidArgumentError("address_space_limit must be positive");
  }
  return absl::OkStatus();
}

// Whole seconds, rounded up.
uint64_t CeilSeconds(absl::Duration d) {
  return static_cast<uint64_t>(absl::ToInt64Seconds(absl::Ceil(d, absl::Seconds(1))));
}

std::vector<std::string> BuildEnvironment(const std::map<std::string, std::string>& env) {
  std::vector<std::string> envp;
  envp.reserve(env.size() + 1);
  for (const auto& [name, value] : env) envp.push_back(absl::StrCat(name, "=", value));
  if (env.find("PATH") == env.end()) envp.push_back(absl::StrCat("PATH=", kDefaultPath));
  return envp;
}

}  // namespace

absl::string_view StreamName(Stream stream) {
  return stream == Stream::kStdout ? "stdout" : "stderr";
}

std::string ProcessResult::DebugString() const {
  std::string s;
  if (exit_code.has_value()) {
    absl::StrAppend(&s, "exit_code=", *exit_code);
  } else if (term_signal.has_value()) {
    absl::StrAppend(&s, "signal=", *term_signal, " (", ::strsignal(*term_signal), ")");
  } else {
    absl::StrAppend(&s, "exit status unknown");
  }
  absl::StrAppend(&s, " duration=", absl::FormatDuration(duration));
  if (stdout_truncated) absl::StrAppend(&s, " stdout_truncated");
  if (stderr_truncated) absl::StrAppend(&s, " stderr_truncated");
  if (timed_out) absl::StrAppend(&s, " timed_out");
  if (cancelled) absl::StrAppend(&s, " cancelled");
  return s;
}

absl::Status TerminationStatus(const ProcessResult& result) {
  if (result.timed_out) {
    return absl::DeadlineExceededError(
        absl::StrCat("command timed out after ", absl::FormatDuration(result.duration)));
  }
  if (result.cancelled) return absl::CancelledError("command was cancelled");
  return absl::OkStatus();
}

// The poll loop behind Wait(). One instance per Wait() call, on the waiting thread.
class Process::Loop {
 public:
  Loop(Process& process, const OutputCallback& on_output)
      : p_(process),
        on_output_(on_output),
        buffer_(kReadChunk),
        stdout_{&process.stdout_read_, Stream::kStdout, OutputLimit(process.options_.stdout_limit)},
        stderr_{&process.stderr_read_, Stream::kStderr, OutputLimit(process.options_.stderr_limit)},
        deadline_(After(process.start_, process.options_.timeout)) {}

  ProcessResult Run();

 private:
  struct Output {
    ScopedFd* fd;
    Stream which;
    OutputLimit limit;
  };

  bool Finished() const {
    return p_.reaped_ && !stdout_.fd->valid() && !stderr_.fd->valid();
  }
  void OnTimers(Clock::time_point now);
  int PollTimeoutMs(Clock::time_point now) const;
  void PollOnce();
  void OnKillRequest();
  // Reads once; returns false when nothing more is available right now.
  bool ReadOnce(Output& out);
  void Drain(Output& out, size_t budget);
  void Deliver(Output& out, size_t size);
  void WriteStdin();
  void OnSupervisorExit();
  void Reap();
  void Terminate();
  void Signal(int sig);

  Process& p_;
  const OutputCallback& on_output_;
  ProcessResult result_;
  std::vector<char> buffer_;
  Output stdout_;
  Output stderr_;
  size_t stdin_offset_ = 0;
  bool terminating_ = false;
  const Clock::time_point deadline_;                       // the timeout
  Clock::time_point sigkill_at_ = Clock::time_point::max();  // end of the grace after SIGTERM
  Clock::time_point drain_until_ = Clock::time_point::max();  // set when the supervisor is reaped
};

ProcessResult Process::Loop::Run() {
  if (p_.stdin_write_.valid() && p_.stdin_bytes_.empty()) p_.stdin_write_.reset();
  while (!Finished()) {
    OnTimers(Clock::now());
    if (Finished()) break;
    PollOnce();
  }
  p_.stdin_write_.reset();
  p_.stdin_bytes_ = std::string();
  result_.stdout_truncated = stdout_.limit.truncated();
  result_.stderr_truncated = stderr_.limit.truncated();
  return result_;
}

void Process::Loop::OnTimers(Clock::time_point now) {
  if (!p_.reaped_) {
    if (!terminating_ && now >= deadline_) {
      result_.timed_out = true;
      Terminate();
    }
    if (now >= sigkill_at_) {
      Signal(kKillAllSignal);
      sigkill_at_ = Clock::time_point::max();
    }
  } else if (now >= drain_until_) {
    // Something outside the command (it was handed the pipe) still holds it: stop waiting for EOF.
    Drain(stdout_, kExitDrainBudget);
    Drain(stderr_, kExitDrainBudget);
    stdout_.fd->reset();
    stderr_.fd->reset();
  }
}

int Process::Loop::PollTimeoutMs(Clock::time_point now) const {
  const Clock::time_point next =
      p_.reaped_ ? drain_until_ : (terminating_ ? sigkill_at_ : deadline_);
  if (next == Clock::time_point::max()) return -1;
  if (next <= now) return 0;
  // Round up, so that we do not wake just before the timer and spin.
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(next - now).count();
  return static_cast<int>(std::min<int64_t>(ms, 1 << 30));
}

void Process::Loop::PollOnce() {
  pollfd fds[5];
  int n = 0;
  auto add = [&](int fd, short events) -> pollfd* {
    if (fd < 0) return nullptr;
    fds[n] = pollfd{fd, events, 0};
    return &fds[n++];
  };
  pollfd* kill_pfd = add(p_.kill_event_.get(), POLLIN);
  pollfd* out_pfd = add(stdout_.fd->get(), POLLIN);
  pollfd* err_pfd = add(stderr_.fd->get(), POLLIN);
  pollfd* in_pfd = add(p_.stdin_write_.get(), POLLOUT);
  pollfd* exit_pfd = add(p_.reaped_ ? -1 : p_.pidfd_.get(), POLLIN);

  if (::poll(fds, n, PollTimeoutMs(Clock::now())) < 0) {
    if (errno == EINTR || errno == EAGAIN) return;
    // Cannot happen with valid arguments; do not leave the command running unsupervised.
    Signal(kKillAllSignal);
    Reap();
    stdout_.fd->reset();
    stderr_.fd->reset();
    return;
  }
  if (kill_pfd->revents != 0) OnKillRequest();
  if (out_pfd != nullptr && out_pfd->revents != 0) ReadOnce(stdout_);
  if (err_pfd != nullptr && err_pfd->revents != 0) ReadOnce(stderr_);
  if (in_pfd != nullptr && in_pfd->revents != 0) WriteStdin();
  if (exit_pfd != nullptr && exit_pfd->revents != 0) OnSupervisorExit();
}

void Process::Loop::OnKillRequest() {
  uint64_t count;
  while (::read(p_.kill_event_.get(), &count, sizeof count) < 0 && errno == EINTR) {
  }
  if (p_.reaped_) return;
  result_.cancelled = true;
  terminating_ = true;
  Signal(kKillAllSignal);
  sigkill_at_ = Clock::time_point::max();
}

bool Process::Loop::ReadOnce(Output& out) {
  if (!out.fd->valid()) return false;
  const ssize_t n = ::read(out.fd->get(), buffer_.data(), buffer_.size());
  if (n > 0) {
    Deliver(out, static_cast<size_t>(n));
    return true;
  }
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return false;
  out.fd->reset();  // EOF, or an error that reading again would not fix
  return false;
}

void Process::Loop::Drain(Output& out, size_t budget) {
  for (size_t read = 0; read < budget && ReadOnce(out); read += buffer_.size()) {
  }
}

void Process::Loop::Deliver(Output& out, size_t size) {
  const size_t keep = out.limit.Admit(size);
  if (keep > 0 && on_output_) on_output_(out.which, absl::string_view(buffer_.data(), keep));
  if (keep < size && p_.options_.kill_on_output_limit) Terminate();
}

void Process::Loop::WriteStdin() {
  const std::string& data = p_.stdin_bytes_;
  const ssize_t n = WriteWithoutSigpipe(p_.stdin_write_.get(), data.data() + stdin_offset_,
                                        data.size() - stdin_offset_);
  if (n > 0) {
    stdin_offset_ += static_cast<size_t>(n);
    if (stdin_offset_ == data.size()) p_.stdin_write_.reset();  // EOF for the child
    return;
  }
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  p_.stdin_write_.reset();  // EPIPE: the child closed its stdin; the rest is not wanted
}

void Process::Loop::OnSupervisorExit() {
  // The supervisor exits once the command has exited and nothing it started is left; what they
  // wrote is in the pipes.
  Drain(stdout_, kExitDrainBudget);
  Drain(stderr_, kExitDrainBudget);
  Reap();
  p_.stdin_write_.reset();
  // Only a process outside, handed a pipe, can still hold one: wait that long at most for EOF.
  drain_until_ = After(Clock::now(), p_.options_.kill_grace);
}

void Process::Loop::Reap() {
  if (p_.reaped_) return;
  while (::waitpid(p_.pid_, nullptr, __WALL) < 0 && errno == EINTR) {
  }
  p_.reaped_ = true;
  p_.pidfd_.reset();
  result_.duration = absl::FromChrono(Clock::now() - p_.start_);
  SupervisorMessage message;
  while (::read(p_.status_read_.get(), &message, sizeof message) ==
         static_cast<ssize_t>(sizeof message)) {
    if (message.kind != SupervisorMessage::kExited) continue;
    const int status = message.value;
    if (WIFEXITED(status)) result_.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) result_.term_signal = WTERMSIG(status);
  }
  p_.status_read_.reset();
}

void Process::Loop::Terminate() {
  if (terminating_ || p_.reaped_) return;
  terminating_ = true;
  Signal(SIGTERM);  // forwarded to the command's group, with a SIGCONT for a stopped command
  if (p_.options_.kill_grace <= absl::ZeroDuration()) {
    Signal(kKillAllSignal);
  } else {
    sigkill_at_ = After(Clock::now(), p_.options_.kill_grace);
  }
}

void Process::Loop::Signal(int sig) {
  // Only while the supervisor is unreaped: its pidfd is closed when it is reaped.
  if (!p_.reaped_) sys::PidfdSendSignal(p_.pidfd_.get(), sig);
}

absl::StatusOr<std::unique_ptr<Process>> Process::Spawn(ProcessOptions options) {
  FRPC_RETURN_IF_ERROR(ValidateOptions(options));
  // Only for the spawn: the child has its own copies afterwards.
  ScopedFd working_directory = std::move(options.working_directory);
  ScopedFd executable = std::move(options.executable);
  const int dir_fd = working_directory.valid() ? working_directory.get() : AT_FDCWD;
  if (!executable.valid()) {
    auto path_it = options.env.find("PATH");
    const std::string path_env = path_it == options.env.end() ? kDefaultPath : path_it->second;
    FRPC_ASSIGN_OR_RETURN(const std::string path,
                          ResolveProgram(options.argv[0], path_env, dir_fd));
    FRPC_ASSIGN_OR_RETURN(executable, OpenExecutable(dir_fd, path));
  }
  SpawnRequest request;
  request.program_fd = executable.get();
  request.program_name = options.argv[0];
  request.argv = options.argv;
  request.envp = BuildEnvironment(options.env);
  request.working_directory_fd = working_directory.valid() ? working_directory.get() : -1;
  request.stdin_pipe = options.stdin_bytes.has_value() || options.stdin_stream;
  request.containment = options.containment;
  request.address_space_limit = options.address_space_limit;
  if (options.cpu_limit.has_value()) request.cpu_limit_seconds = CeilSeconds(*options.cpu_limit);

  // Created before the child, so that nothing can fail once it is running.
  ScopedFd kill_event(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!kill_event.valid()) return absl::ErrnoToStatus(errno, "eventfd");
  FRPC_ASSIGN_OR_RETURN(SpawnedChild child, SpawnChild(request));

  std::string stdin_bytes;
  if (options.stdin_bytes.has_value()) stdin_bytes = std::move(*options.stdin_bytes);
  options.stdin_bytes.reset();
  std::unique_ptr<Process> process(
      new Process(std::move(options), std::move(stdin_bytes), child.pid));
  process->pidfd_ = std::move(child.pidfd);
  process->status_read_ = std::move(child.status_read);
  process->kill_event_ = std::move(kill_event);
  process->stdin_write_ = std::move(child.stdin_write);
  process->stdout_read_ = std::move(child.stdout_read);
  process->stderr_read_ = std::move(child.stderr_read);
  return process;
}

Process::Process(ProcessOptions options, std::string stdin_bytes, pid_t pid)
    : options_(std::move(options)),
      stdin_bytes_(std::move(stdin_bytes)),
      pid_(pid),
      start_(Clock::now()) {}

Process::~Process() {
  if (reaped_) return;
  // A PID namespace dies with its init. A subreaper must be asked: killed itself, it would leave
  // the command's processes to the host's init.
  sys::PidfdSendSignal(pidfd_.get(), options_.containment == Containment::kPidNamespace
                                         ? SIGKILL
                                         : kKillAllSignal);
  while (::waitpid(pid_, nullptr, __WALL) < 0 && errno == EINTR) {
  }
}

ScopedFd Process::TakeStdinPipe() {
  if (!options_.stdin_stream || wait_started_) return ScopedFd();
  return std::move(stdin_write_);
}

ProcessResult Process::Wait(const OutputCallback& on_output) {
  wait_started_ = true;
  if (!result_.has_value()) result_ = Loop(*this, on_output).Run();
  return *result_;
}

void Process::Kill() {
  const uint64_t one = 1;
  const ssize_t ignored = ::write(kill_event_.get(), &one, sizeof one);
  (void)ignored;
}

ProcessOutput WaitAndCollect(Process& process) {
  ProcessOutput output;
  output.result = process.Wait([&output](Stream which, absl::string_view bytes) {
    std::string& sink = which == Stream::kStdout ? output.stdout_bytes : output.stderr_bytes;
    sink.append(bytes.data(), bytes.size());
  });
  return output;
}

absl::StatusOr<ProcessOutput> RunToCompletion(ProcessOptions options) {
  FRPC_ASSIGN_OR_RETURN(std::unique_ptr<Process> process, Process::Spawn(std::move(options)));
  return WaitAndCollect(*process);
}

}  // namespace framerpc::command

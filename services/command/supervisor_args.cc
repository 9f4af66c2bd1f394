#include "services/command/supervisor_args.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace framerpc::command {
namespace {

constexpr int kModeIndex = 2;
constexpr int kFirstFdIndex = 3;
constexpr int kFdCount = 7;
constexpr int kAddressSpaceIndex = kFirstFdIndex + kFdCount;  // 10
constexpr int kCpuIndex = kAddressSpaceIndex + 1;
constexpr int kArgcIndex = kCpuIndex + 1;
constexpr int kStringsFdIndex = kArgcIndex + 1;
constexpr int kArgCount = kStringsFdIndex + 1;

// A whole decimal number in [min, max].
bool ParseNumber(const char* s, long long min, long long max, long long& out) {
  if (s == nullptr || *s == '\0') return false;
  errno = 0;
  char* end = nullptr;
  const long long value = strtoll(s, &end, 10);
  if (errno != 0 || *end != '\0' || value < min || value > max) return false;
  out = value;
  return true;
}

bool ParseFd(const char* s, int& fd) {
  long long value;
  if (!ParseNumber(s, -1, 1 << 30, value)) return false;
  fd = static_cast<int>(value);
  return true;
}

// "-" leaves `set` false.
bool ParseLimit(const char* s, bool& set, rlim_t& value) {
  if (s != nullptr && strcmp(s, "-") == 0) return true;
  long long parsed;
  if (!ParseNumber(s, 0, 1LL << 62, parsed)) return false;
  set = true;
  value = static_cast<rlim_t>(parsed);
  return true;
}

}  // namespace

bool ParseSupervisorArgs(int argc, char** argv, SupervisorPlan& plan, int& strings_fd,
                         int& command_argc) {
  plan = SupervisorPlan();
  if (argc > kFirstFdIndex && !ParseFd(argv[kFirstFdIndex], plan.status_fd)) plan.status_fd = -1;
  if (argc != kArgCount || strcmp(argv[1], kSupervisorArgsVersion) != 0) return false;
  const char* mode = argv[kModeIndex];
  if (strcmp(mode, "probe") == 0) {
    plan.pid_namespace = plan.probe_only = true;
  } else if (strcmp(mode, "pidns") == 0) {
    plan.pid_namespace = true;
  } else if (strcmp(mode, "subreaper") != 0) {
    return false;
  }
  int* const fds[kFdCount] = {&plan.status_fd,  &plan.lifeline_fd, &plan.program_fd,
                              &plan.working_directory_fd, &plan.stdin_fd, &plan.stdout_fd,
                              &plan.stderr_fd};
  for (int i = 0; i < kFdCount; ++i) {
    if (!ParseFd(argv[kFirstFdIndex + i], *fds[i])) return false;
  }
  if (!ParseLimit(argv[kAddressSpaceIndex], plan.limit_address_space,
                  plan.address_space.rlim_cur) ||
      !ParseLimit(argv[kCpuIndex], plan.limit_cpu, plan.cpu.rlim_cur)) {
    return false;
  }
  plan.address_space.rlim_max = plan.address_space.rlim_cur;
  plan.cpu.rlim_max = plan.cpu.rlim_cur + 1;  // SIGXCPU at the soft limit, SIGKILL a second later
  long long count;
  if (!ParseNumber(argv[kArgcIndex], plan.probe_only ? 0 : 1, 1 << 30, count) ||
      !ParseFd(argv[kStringsFdIndex], strings_fd)) {
    return false;
  }
  command_argc = static_cast<int>(count);
  if (!plan.probe_only) {
    // Only the lifeline and the working directory may be absent.
    for (int* fd : {&strings_fd, &plan.program_fd, &plan.stdin_fd, &plan.stdout_fd,
                    &plan.stderr_fd}) {
      if (*fd < 0) return false;
    }
  }
  return plan.status_fd >= 0;
}

bool LoadCommandStrings(int fd, int command_argc, SupervisorPlan& plan) {
  struct stat st;
  if (fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size > (1LL << 30)) {
    close(fd);
    return false;
  }
  const size_t size = static_cast<size_t>(st.st_size);
  void* mapped = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (mapped == MAP_FAILED) return false;
  const char* data = static_cast<const char*>(mapped);
  if (data[size - 1] != '\0') return false;
  size_t strings = 0;
  for (size_t i = 0; i < size; ++i) strings += data[i] == '\0';
  if (strings < static_cast<size_t>(command_argc)) return false;
  // Both arrays, each with its NULL.
  char** pointers = static_cast<char**>(calloc(strings + 2, sizeof(char*)));
  if (pointers == nullptr) return false;
  size_t slot = 0;
  for (size_t i = 0, n = 0; i < size; ++n) {
    if (n == static_cast<size_t>(command_argc)) ++slot;  // argv's NULL
    pointers[slot++] = const_cast<char*>(data + i);
    i += strlen(data + i) + 1;
  }
  plan.argv = pointers;
  plan.envp = pointers + command_argc + 1;
  return true;
}

}  // namespace framerpc::command

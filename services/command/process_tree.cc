#include "services/command/process_tree.h"

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>

#include <cstdint>

namespace framerpc::command {
namespace {

// A process being walked: its pid and, below the caller, a pidfd that proves its number still
// names it.
struct Node {
  pid_t pid;
  int pidfd;  // -1 for the caller itself
};

// How many processes one round keeps open for walking; the rest wait for the next round.
constexpr int kMaxNodes = 256;

struct Dirent64 {
  uint64_t ino;
  int64_t off;
  unsigned short reclen;
  unsigned char type;
  char name[];
};

FRPC_CHILD_CODE char* Append(char* out, const char* s) {
  while (*s != '\0') *out++ = *s++;
  *out = '\0';
  return out;
}

FRPC_CHILD_CODE char* AppendNumber(char* out, unsigned long value) {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  while (n > 0) *out++ = digits[--n];
  *out = '\0';
  return out;
}

// "/proc/<pid>/<rest>"; `path` must hold 64 bytes.
FRPC_CHILD_CODE void ProcPath(char* path, pid_t pid, const char* rest) {
  char* p = Append(path, "/proc/");
  p = AppendNumber(p, static_cast<unsigned long>(pid));
  Append(p, rest);
}

// The parent pid in /proc/<pid>/stat, or -1.
FRPC_CHILD_CODE pid_t ParentOf(pid_t pid) {
  char path[64];
  ProcPath(path, pid, "/stat");
  const int fd = static_cast<int>(sys::Open(path, O_RDONLY | O_CLOEXEC));
  if (fd < 0) return -1;
  char buf[512];
  const long n = sys::Read(fd, buf, sizeof buf);
  sys::Close(fd);
  // "pid (comm) S ppid ...": comm may hold anything, so look after the last ')'.
  long close = -1;
  for (long i = 0; i < n; ++i) {
    if (buf[i] == ')') close = i;
  }
  long i = close + 4;  // past ") S "
  if (close < 0 || i >= n || buf[close + 1] != ' ' || buf[close + 3] != ' ') return -1;
  long ppid = 0;
  const long start = i;
  for (; i < n && buf[i] >= '0' && buf[i] <= '9'; ++i) ppid = ppid * 10 + (buf[i] - '0');
  return i > start ? static_cast<pid_t>(ppid) : -1;
}

// SIGKILLs `pid` if it is provably a child of `parent` (see process_tree.h), and queues it to be
// walked.
FRPC_CHILD_CODE void KillIfChildOf(const Node& parent, pid_t pid, Node* stack, int* top) {
  const int pidfd = static_cast<int>(sys::PidfdOpen(pid));
  if (pidfd < 0) return;
  // Read after the pidfd was opened: if that process is still alive when signalled, it is the one
  // whose parent this is. And the parent's number named the parent while it was read, as long as
  // the parent is still unreaped afterwards.
  bool proven = ParentOf(pid) == parent.pid;
  if (proven && parent.pidfd >= 0) proven = sys::PidfdSendSignal(parent.pidfd, 0) == 0;
  if (!proven) {
    sys::Close(pidfd);
    return;
  }
  sys::PidfdSendSignal(pidfd, SIGKILL);  // it cannot fork any more once this is pending
  if (*top < kMaxNodes) {
    stack[(*top)++] = Node{pid, pidfd};
  } else {
    sys::Close(pidfd);
  }
}

// The children that thread `tid` of `parent` created, from its children file.
FRPC_CHILD_CODE void KillChildrenOfThread(const Node& parent, pid_t tid, Node* stack, int* top) {
  char path[64];
  char* p = Append(path, "/proc/");
  p = AppendNumber(p, static_cast<unsigned long>(parent.pid));
  p = Append(p, "/task/");
  p = AppendNumber(p, static_cast<unsigned long>(tid));
  Append(p, "/children");
  const int fd = static_cast<int>(sys::Open(path, O_RDONLY | O_CLOEXEC));
  if (fd < 0) return;
  char buf[256];
  unsigned long value = 0;
  bool in_number = false;
  for (;;) {
    const long n = sys::Read(fd, buf, sizeof buf);
    if (n <= 0) break;
    for (long i = 0; i < n; ++i) {
      if (buf[i] >= '0' && buf[i] <= '9') {
        value = value * 10 + static_cast<unsigned long>(buf[i] - '0');
        in_number = true;
      } else if (in_number) {
        KillIfChildOf(parent, static_cast<pid_t>(value), stack, top);
        value = 0;
        in_number = false;
      }
    }
  }
  if (in_number) KillIfChildOf(parent, static_cast<pid_t>(value), stack, top);
  sys::Close(fd);
}

FRPC_CHILD_CODE void KillChildren(const Node& parent, Node* stack, int* top) {
  char path[64];
  ProcPath(path, parent.pid, "/task");
  const int dir = static_cast<int>(sys::Open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir < 0) return;
  alignas(8) char entries[1024];
  for (;;) {
    const long n = sys::GetDents64(dir, entries, sizeof entries);
    if (n <= 0) break;
    for (long offset = 0; offset < n;) {
      const Dirent64* entry = reinterpret_cast<const Dirent64*>(entries + offset);
      offset += entry->reclen;
      long tid = 0;
      const char* c = entry->name;
      for (; *c >= '0' && *c <= '9'; ++c) tid = tid * 10 + (*c - '0');
      if (*c == '\0' && c != entry->name) {
        KillChildrenOfThread(parent, static_cast<pid_t>(tid), stack, top);
      }
    }
  }
  sys::Close(dir);
}

}  // namespace

FRPC_CHILD_CODE void KillDescendants() {
  Node stack[kMaxNodes];
  int top = 0;
  stack[top++] = Node{sys::GetPid(), -1};
  while (top > 0) {
    const Node node = stack[--top];
    KillChildren(node, stack, &top);
    if (node.pidfd >= 0) sys::Close(node.pidfd);
  }
}

FRPC_CHILD_CODE void KillAllDescendants() {
  for (;;) {
    KillDescendants();
    // Blocks until one of the children just killed (or an orphan reparented since) exits.
    int status;
    if (sys::Wait4(-1, &status, __WALL) < 0 && errno != EINTR) return;  // ECHILD: none left
  }
}

}  // namespace framerpc::command

#include "bench/proc_stats.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace framerpc::bench {
namespace {

constexpr char kTcpListen[] = "0A";                 // TCP_LISTEN, as /proc/net/tcp prints it
constexpr char kUnixConnected[] = "03";             // SS_CONNECTED, as /proc/net/unix prints it
constexpr unsigned long kUnixAcceptCon = 1u << 16;  // __SO_ACCEPTCON: a listening socket

// The inode numbers of the sockets among `pid`'s descriptors ("socket:[12345]").
absl::flat_hash_set<std::string> SocketInodes(pid_t pid) {
  absl::flat_hash_set<std::string> inodes;
  const std::string dir = absl::StrCat("/proc/", pid, "/fd");
  DIR* fds = ::opendir(dir.c_str());
  if (fds == nullptr) return inodes;
  while (const dirent* entry = ::readdir(fds)) {
    char target[64];
    const std::string link = absl::StrCat(dir, "/", entry->d_name);
    const ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
    if (n <= 0) continue;
    absl::string_view text(target, static_cast<size_t>(n));
    if (absl::ConsumePrefix(&text, "socket:[") && absl::ConsumeSuffix(&text, "]")) {
      inodes.insert(std::string(text));
    }
  }
  ::closedir(fds);
  return inodes;
}

// Adds the sockets of /proc/PID/net/`table` (tcp or tcp6) whose inode is in `inodes`.
void CountTcp(pid_t pid, const char* table, const absl::flat_hash_set<std::string>& inodes,
              Sockets* sockets) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/net/", table));
  std::string line;
  std::getline(in, line);  // the column names
  while (std::getline(in, line)) {
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
    std::istringstream fields(line);
    std::string sl, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
    fields >> sl >> local >> remote >> state >> queues >> timer >> retransmits >> uid >> timeout >>
        inode;
    if (!inodes.contains(inode)) continue;
    ++(state == kTcpListen ? sockets->listening : sockets->connections);
  }
}

// The same for the process's Unix stream sockets, from /proc/PID/net/unix.
void CountUnix(pid_t pid, const absl::flat_hash_set<std::string>& inodes, Sockets* sockets) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/net/unix"));
  std::string line;
  std::getline(in, line);  // the column names
  while (std::getline(in, line)) {
    // Num RefCount Protocol Flags Type St Inode [Path]
    std::istringstream fields(line);
    std::string num, refs, protocol, flags, type, state, inode;
    fields >> num >> refs >> protocol >> flags >> type >> state >> inode;
    if (!inodes.contains(inode)) continue;
    if (std::stoul(flags, nullptr, 16) & kUnixAcceptCon) {
      ++sockets->listening;
    } else if (state == kUnixConnected) {
      ++sockets->connections;
    }
  }
}

}  // namespace

size_t ProcStatusBytes(pid_t pid, absl::string_view field) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    absl::string_view rest = line;
    if (!absl::ConsumePrefix(&rest, field)) continue;
    std::istringstream in{std::string(rest)};
    size_t kb = 0;
    in >> kb;
    return kb * 1024;
  }
  return 0;
}

void ResetPeakRss(pid_t pid) { std::ofstream(absl::StrCat("/proc/", pid, "/clear_refs")) << "5"; }

int OpenFds(pid_t pid) {
  DIR* fds = ::opendir(absl::StrCat("/proc/", pid, "/fd").c_str());
  if (fds == nullptr) return 0;
  int count = 0;
  while (const dirent* entry = ::readdir(fds)) {
    if (entry->d_name[0] != '.') ++count;
  }
  ::closedir(fds);
  return count;
}

Sockets SocketsOf(pid_t pid) {
  const absl::flat_hash_set<std::string> inodes = SocketInodes(pid);
  Sockets sockets;
  CountTcp(pid, "tcp", inodes, &sockets);
  CountTcp(pid, "tcp6", inodes, &sockets);
  CountUnix(pid, inodes, &sockets);
  return sockets;
}

absl::Duration ProcessCpu(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string line;
  if (!std::getline(in, line)) return absl::ZeroDuration();
  // The command name, field 2, may hold spaces: the fields that follow start after its ')'.
  const size_t close = line.rfind(')');
  if (close == std::string::npos) return absl::ZeroDuration();
  std::istringstream fields(line.substr(close + 1));
  std::string field;
  long long utime = 0;
  long long stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {  // utime is field 14, stime 15
    if (i == 14) utime = std::atoll(field.c_str());
    if (i == 15) stime = std::atoll(field.c_str());
  }
  const long ticks = ::sysconf(_SC_CLK_TCK);
  if (ticks <= 0) return absl::ZeroDuration();
  return absl::Seconds(static_cast<double>(utime + stime) / static_cast<double>(ticks));
}

}  // namespace framerpc::bench

#include "metrics/process_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "metrics/families.h"

namespace framerpc::metrics {
namespace {

// Fields of /proc/self/stat after the command name (which may contain spaces and parentheses):
// field 3 is state; utime 14, stime 15, num_threads 20, starttime 22, vsize 23, rss 24.
struct Stat {
  double utime = 0, stime = 0, threads = 0, starttime = 0, vsize = 0, rss_pages = 0;
};

Stat ReadStat() {
  Stat stat;
  std::ifstream in("/proc/self/stat");
  std::string line;
  std::getline(in, line);
  const size_t close = line.rfind(')');
  if (close == std::string::npos) return stat;
  std::istringstream fields(line.substr(close + 2));
  std::string field;
  for (int n = 3; fields >> field; ++n) {
    const double value = std::strtod(field.c_str(), nullptr);
    switch (n) {
      case 14: stat.utime = value; break;
      case 15: stat.stime = value; break;
      case 20: stat.threads = value; break;
      case 22: stat.starttime = value; break;
      case 23: stat.vsize = value; break;
      case 24: stat.rss_pages = value; break;
      default: break;
    }
  }
  return stat;
}

double BootTimeSeconds() {
  std::ifstream in("/proc/stat");
  std::string key;
  double value = 0;
  while (in >> key) {
    if (key == "btime") {
      in >> value;
      return value;
    }
    in.ignore(1 << 16, '\n');
  }
  return 0;
}

double OpenFds() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  double count = 0;
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  ::closedir(dir);
  return count - 1;  // the directory's own descriptor
}

}  // namespace

std::vector<prometheus::MetricFamily> ProcessMetrics::Collect() const {
  using prometheus::MetricType;
  const Stat stat = ReadStat();
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  rlimit files{};
  ::getrlimit(RLIMIT_NOFILE, &files);
  return {
      Single("process_cpu_seconds_total", "User and system CPU time spent, in seconds.",
             MetricType::Counter, (stat.utime + stat.stime) / ticks),
      Single("process_resident_memory_bytes", "Resident memory size in bytes.", MetricType::Gauge,
             stat.rss_pages * page),
      Single("process_virtual_memory_bytes", "Virtual memory size in bytes.", MetricType::Gauge,
             stat.vsize),
      Single("process_open_fds", "Open file descriptors.", MetricType::Gauge, OpenFds()),
      Single("process_max_fds", "The most file descriptors the process may open.",
             MetricType::Gauge,
             files.rlim_cur == RLIM_INFINITY ? -1 : static_cast<double>(files.rlim_cur)),
      Single("process_threads", "Threads of the process.", MetricType::Gauge, stat.threads),
      Single("process_start_time_seconds", "Start time of the process since the Unix epoch.",
             MetricType::Gauge, BootTimeSeconds() + stat.starttime / ticks),
  };
}

}  // namespace framerpc::metrics

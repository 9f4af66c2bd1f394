#include "server/file_watch.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"

namespace framerpc::server {
namespace {

std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Every way a file in the directory can be replaced: written and closed, renamed in or out,
// created, removed, its mode or owner changed (an atomic symlink swap is a rename).
constexpr uint32_t kEvents = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE |
                             IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;

}  // namespace

absl::StatusOr<std::unique_ptr<FileWatch>> FileWatch::Start(std::vector<std::string> files,
                                                            std::function<void()> on_change,
                                                            Options options) {
  ScopedFd inotify(inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!inotify.valid()) {
    return absl::InternalError(absl::StrCat("inotify_init1: ", std::strerror(errno)));
  }
  ScopedFd stop(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!stop.valid()) return absl::InternalError(absl::StrCat("eventfd: ", std::strerror(errno)));
  std::vector<std::string> watched;
  std::set<std::string> directories;
  for (std::string& file : files) {
    if (file.empty()) continue;
    directories.insert(DirectoryOf(file));
    watched.push_back(std::move(file));
  }
  for (const std::string& directory : directories) {
    if (inotify_add_watch(inotify.get(), directory.c_str(), kEvents) < 0) {
      const int error = errno;
      const std::string message =
          absl::StrCat("cannot watch directory ", directory, ": ", std::strerror(error));
      return error == ENOENT ? absl::NotFoundError(message) : absl::InternalError(message);
    }
  }
  return std::unique_ptr<FileWatch>(new FileWatch(std::move(watched), std::move(on_change), options,
                                                  std::move(inotify), std::move(stop)));
}

FileWatch::FileWatch(std::vector<std::string> files, std::function<void()> on_change,
                     Options options, ScopedFd inotify, ScopedFd stop)
    : files_(std::move(files)),
      on_change_(std::move(on_change)),
      options_(options),
      inotify_(std::move(inotify)),
      stop_(std::move(stop)) {
  last_ = Fingerprint();
  thread_ = std::thread([this] { Run(); });
}

FileWatch::~FileWatch() {
  const uint64_t one = 1;
  (void)!write(stop_.get(), &one, sizeof one);
  thread_.join();
}

void FileWatch::Run() {
  for (;;) {
    pollfd fds[2] = {{inotify_.get(), POLLIN, 0}, {stop_.get(), POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    if (fds[0].revents == 0) continue;
    Drain();
    if (!Settle()) return;
    std::string now = Fingerprint();
    if (now == last_) continue;
    last_ = std::move(now);
    on_change_();
  }
}

void FileWatch::Drain() {
  alignas(inotify_event) char buf[4096];
  while (read(inotify_.get(), buf, sizeof buf) > 0) {
  }
}

bool FileWatch::Settle() {
  const int quiet_ms = static_cast<int>(absl::ToInt64Milliseconds(options_.settle));
  for (;;) {
    pollfd fds[2] = {{inotify_.get(), POLLIN, 0}, {stop_.get(), POLLIN, 0}};
    const int ready = poll(fds, 2, quiet_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return ready == 0;
    if (fds[1].revents != 0) return false;
    Drain();
  }
}

std::string FileWatch::Fingerprint() const {
  std::string out;
  for (const std::string& file : files_) {
    struct stat st;
    if (stat(file.c_str(), &st) != 0) {
      absl::StrAppend(&out, "missing;");
      continue;
    }
    absl::StrAppend(&out, st.st_dev, ":", st.st_ino, ":", st.st_size, ":", st.st_mtim.tv_sec, ".",
                    st.st_mtim.tv_nsec, ":", st.st_ctim.tv_sec, ".", st.st_ctim.tv_nsec, ";");
  }
  return out;
}

}  // namespace framerpc::server

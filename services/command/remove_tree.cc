#include "services/command/remove_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <deque>
#include <vector>

#include "absl/strings/str_cat.h"

namespace framerpc::command {
namespace {

constexpr int kMaxDepth = 64;

class TreeRemover {
 public:
  TreeRemover(int top_fd, dev_t device) : top_fd_(top_fd), device_(device) {}

  // Removes `name` in `dir_fd` (at `depth` below the top), recursively.
  void Remove(int dir_fd, const std::string& name, int depth) {
    const int fd = ::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      // Not a directory, or a symlink: the entry itself goes.
      if ((errno == ENOTDIR || errno == ELOOP) && ::unlinkat(dir_fd, name.c_str(), 0) == 0) return;
      return Fail(name, errno);
    }
    struct stat st;
    if (::fstat(fd, &st) != 0 || st.st_dev != device_) {
      ::close(fd);
      return Fail(name, EXDEV);  // a mount point: not ours to empty
    }
    if (depth >= kMaxDepth) {
      // Too deep to descend further now: move it up to the top, to be removed from there.
      ::close(fd);
      const std::string moved = absl::StrCat(".deep-", next_.fetch_add(1));
      if (::renameat(dir_fd, name.c_str(), top_fd_, moved.c_str()) != 0) return Fail(name, errno);
      pending_.push_back(moved);
      return;
    }
    DIR* dir = ::fdopendir(fd);
    if (dir == nullptr) {
      ::close(fd);
      return Fail(name, errno);
    }
    std::vector<std::string> entries;
    while (const dirent* entry = ::readdir(dir)) {
      const std::string child = entry->d_name;
      if (child != "." && child != "..") entries.push_back(child);
    }
    for (const std::string& child : entries) Remove(::dirfd(dir), child, depth + 1);
    ::closedir(dir);
    if (::unlinkat(dir_fd, name.c_str(), AT_REMOVEDIR) != 0) Fail(name, errno);
  }

  // Removes what was moved up, until nothing is left.
  void RemovePending() {
    while (!pending_.empty()) {
      const std::string name = pending_.front();
      pending_.pop_front();
      Remove(top_fd_, name, 0);
    }
  }

  absl::Status status() const { return status_; }

 private:
  void Fail(const std::string& name, int error) {
    if (status_.ok()) status_ = absl::ErrnoToStatus(error, absl::StrCat("removing '", name, "'"));
  }

  const int top_fd_;
  const dev_t device_;
  std::deque<std::string> pending_;
  absl::Status status_;
  static std::atomic<uint64_t> next_;
};

std::atomic<uint64_t> TreeRemover::next_{0};

}  // namespace

absl::Status RemoveTree(int parent_fd, const std::string& name) {
  struct stat st;
  if (::fstat(parent_fd, &st) != 0) return absl::ErrnoToStatus(errno, "fstat");
  TreeRemover remover(parent_fd, st.st_dev);
  remover.Remove(parent_fd, name, 0);
  remover.RemovePending();
  return remover.status();
}

}  // namespace framerpc::command

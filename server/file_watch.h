// FileWatch: calls a function when any of a few files changes, so that a server picks up renewed
// certificates without a signal. It watches the files' directories with inotify, not the files,
// so that every way of replacing a file is seen: written in place, renamed into place (what
// cert-manager and most tools do), or a symlink swapped under it (a Kubernetes secret's ..data).
// After an event it waits until the directories have been quiet for `settle` (a certificate and
// its key are seldom replaced by one rename), then calls `on_change` only if a file's identity
// (device, inode, size, modification and change times, following symlinks) differs from what it
// was at the last call, or at Start.
//
// Thread safety and lifetime: `on_change` runs on the watch's own thread, one call at a time;
// whatever it touches must be safe from that thread and outlive the FileWatch. The destructor
// stops the thread and returns only when no `on_change` call is running.
#ifndef FRAMERPC_SERVER_FILE_WATCH_H_
#define FRAMERPC_SERVER_FILE_WATCH_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/scoped_fd.h"

namespace framerpc::server {

class FileWatch {
 public:
  struct Options {
    absl::Duration settle = absl::Milliseconds(200);
  };
  // `files`: paths (relative ones are taken from the current directory); empty ones are skipped.
  // An error (INTERNAL or NOT_FOUND naming the directory) when a directory cannot be watched.
  static absl::StatusOr<std::unique_ptr<FileWatch>> Start(std::vector<std::string> files,
                                                          std::function<void()> on_change,
                                                          Options options);
  ~FileWatch();
  FileWatch(const FileWatch&) = delete;
  FileWatch& operator=(const FileWatch&) = delete;

 private:
  FileWatch(std::vector<std::string> files, std::function<void()> on_change, Options options,
            ScopedFd inotify, ScopedFd stop);
  void Run();
  // Reads and drops every pending inotify event.
  void Drain();
  // Waits for the directories to be quiet for settle; false when asked to stop meanwhile.
  bool Settle();
  std::string Fingerprint() const;

  const std::vector<std::string> files_;
  const std::function<void()> on_change_;
  const Options options_;
  ScopedFd inotify_;
  ScopedFd stop_;     // an eventfd the destructor writes to
  std::string last_;  // the files' fingerprint at the last call; only the thread uses it
  std::thread thread_;
};

}  // namespace framerpc::server

#endif  // FRAMERPC_SERVER_FILE_WATCH_H_

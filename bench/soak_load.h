// SoakLoad: the mixed client load soak_bench drives a server with, on threads of its own until
// Stop():
//  - echo: `echo_connections` channels, each calling EchoService.Say back to back (small texts,
//    one in a hundred 256 KiB);
//  - a download worker and an upload worker, each moving a few MiB at a time through the
//    file-service client library (DownloadFile, UploadFile: verified by XXH3-128, the default);
//  - a cancelling worker, whose downloads and uploads it cancels halfway, over a Unix socket;
//  - silent clients: a new raw connection every half second, alternately one that sends nothing
//    and one that makes an echo call and then goes silent, the oldest dropped beyond
//    `silent_clients` (the server closes the first kind after its first-byte timeout).
// Two transfers at most are under way at once from the TCP address, within the file service's
// default of four per peer.
//
// Outcomes are counted: calls that succeeded, calls that failed by status code, and calls the
// bench cancelled on purpose (not failures).
//
// Thread safety: Start() (once) and Stop() from one thread; Counts() from any.
#ifndef FRAMERPC_BENCH_SOAK_LOAD_H_
#define FRAMERPC_BENCH_SOAK_LOAD_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "base/notification.h"

namespace framerpc::bench {

struct SoakLoadOptions {
  std::string address;  // the server's framed TCP address
  // Where the cancelling worker connects: another of the server's addresses, a Unix socket, so
  // that it is another peer for the file service's per-peer cap. A cancelled transfer keeps its
  // slot until the server has read up to the cancel and its handler has returned, a few
  // milliseconds after the client has gone on; a worker that cancels and starts again at once
  // would otherwise overlap the other workers' transfers past the cap now and then.
  std::string cancel_address;
  // On the server's file root: soak/download-0.bin .. download-{download_files-1}.bin exist; the
  // uploads go to soak/upload-*.bin.
  int download_files = 3;
  // The bench's own directory: upload sources are made here, downloads written here.
  std::string local_dir;
  size_t upload_bytes = size_t{3} << 20;
  int echo_connections = 4;
  int silent_clients = 40;
};

struct SoakCounts {
  uint64_t ok = 0;
  uint64_t cancelled_on_purpose = 0;
  uint64_t file_bytes = 0;                    // downloaded and uploaded, by calls that succeeded
  std::array<uint64_t, 17> errors{};          // by absl::StatusCode
  std::array<std::string, 17> first_message;  // of the first error of each code
};

class SoakLoad {
 public:
  explicit SoakLoad(SoakLoadOptions options);
  ~SoakLoad();  // Stop()s
  SoakLoad(const SoakLoad&) = delete;
  SoakLoad& operator=(const SoakLoad&) = delete;

  // Creates the upload sources and starts every worker. An error if a source cannot be written.
  absl::Status Start();
  // Stops the workers (each finishes the call it is in), and closes every connection the load
  // opened. Idempotent.
  void Stop();

  SoakCounts Counts() const;

 private:
  void Record(const absl::Status& status, uint64_t file_bytes = 0);
  void RecordCancelled(const absl::Status& status);
  void EchoWorker();
  void DownloadWorker();
  void UploadWorker();
  void CancellingWorker();
  void SilentWorker();
  bool running() const { return running_.load(std::memory_order_relaxed); }

  const SoakLoadOptions options_;
  std::atomic<bool> running_{false};
  Notification stop_;
  std::vector<std::thread> threads_;
  std::atomic<uint64_t> ok_{0};
  std::atomic<uint64_t> cancelled_on_purpose_{0};
  std::atomic<uint64_t> file_bytes_{0};
  std::array<std::atomic<uint64_t>, 17> errors_{};
  mutable std::mutex mu_;
  std::array<std::string, 17> first_message_;  // guarded by mu_
};

}  // namespace framerpc::bench

#endif  // FRAMERPC_BENCH_SOAK_LOAD_H_

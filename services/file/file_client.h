// The client side of FileService downloads and uploads (file.proto) between a local path and the
// server, verified by a checksum chosen per transfer (checksum.h: XXH3-128 unless SHA-256 is
// asked for): the library behind framerpc_cli's download and upload commands.
//
// Servers from before the checksum choice. A download from one is verified by SHA-256 whatever
// was asked for (its header names no algorithm, so the client knows before any data arrives;
// DownloadResult::algorithm says which). An upload with SHA-256 is checked by one as before. An
// upload with XXH3-128 is committed by one unchecked (it ignores the fields it does not know);
// UploadFile then fails with FAILED_PRECONDITION, saying so and giving the server's SHA-256.
//
// Where a download writes. Only to the local path the caller gave, never to a name that comes
// from the server, and only if that path is a regular file or does not exist yet: a directory,
// a symlink (even one pointing to a regular file), a FIFO or a device is refused with
// FAILED_PRECONDITION before anything is written. Missing parent directories are not created.
// The local file is opened only once the server has accepted the request, so a refused download
// (NOT_FOUND, say) leaves an existing local file as it was.
//
// What is left after a failure. A download that is cut off keeps the bytes it received, so that
// it can be resumed (DownloadOptions::resume); the error says how many. One whose data does not
// match the server's digest fails with DATA_LOSS and takes back what it wrote: a file it created
// is removed, and any other is cut back to the offset it started at (a resumed download's part
// stays; a file a fresh download replaced is left empty). An upload that fails leaves nothing on
// the server (see file.proto).
//
// Thread safety: each call is independent; the stub must be usable from the calling thread, and
// `context` serves that one call (set its deadline, metadata and cancel it as for any call).
#ifndef FRAMERPC_SERVICES_FILE_FILE_CLIENT_H_
#define FRAMERPC_SERVICES_FILE_FILE_CLIENT_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "rpc/context.h"
#include "services/file/checksum.h"
#include "services/file/file.frpc.h"

namespace framerpc::file {

// Bytes of the file done so far and the file's size, after each chunk. Runs on the calling
// thread; must not block for long (it holds up the transfer).
using ProgressFn = std::function<void(uint64_t done, uint64_t total)>;

// The server-to-client flow-control window a download asks for (ClientContext::
// set_stream_receive_window): how many bytes the server may send ahead of the client's reads, and
// so at most what a download buffers in the client, and queues in the server, at once. 4 MiB,
// against the channel's 1 MiB: on loopback a verified download measured the same with it and the
// transport alone up to 13% faster (docs/file_service.md, Throughput), and a download cannot run
// faster than one window per round trip, so on a long link it allows 4x. Within the 16 MiB a
// server accepts by default (ServerOptions::max_stream_window_bytes).
inline constexpr int64_t kDownloadReceiveWindowBytes = int64_t{4} << 20;

struct DownloadOptions {
  // Continue a previous download: keep the local file's bytes, ask for the rest, and verify the
  // whole file (the server hashes the part the client already has, too). Without it the local
  // file is replaced.
  bool resume = false;
  // The receive window asked for; it replaces whatever `context` had. 0 leaves the channel's
  // default (1 MiB). A server refuses a window above its ServerOptions::max_stream_window_bytes
  // (16 MiB unless configured lower) with RESOURCE_EXHAUSTED.
  int64_t receive_window_bytes = kDownloadReceiveWindowBytes;
  // The checksum asked for.
  HashAlgorithm checksum = HashAlgorithm::kXxh128;
  ProgressFn progress;
};

struct DownloadResult {
  uint64_t file_size = 0;  // the server's file
  uint64_t offset = 0;     // where this call started (the local file's size when resuming)
  uint64_t received = 0;   // bytes this call received and wrote
  // The algorithm the download was verified with: the one asked for, or SHA-256 from a server
  // older than the choice.
  HashAlgorithm algorithm = HashAlgorithm::kXxh128;
  std::string digest;  // of the whole local file, as checked against the server's
};

absl::StatusOr<DownloadResult> DownloadFile(FileService::Stub* stub, ClientContext* context,
                                            const std::string& remote_path,
                                            const std::string& local_path,
                                            const DownloadOptions& options);

struct UploadOptions {
  // Replace an existing file on the server.
  bool overwrite = false;
  // Bytes per data message.
  size_t chunk_bytes = size_t{256} << 10;
  // The checksum the server checks the upload against.
  HashAlgorithm checksum = HashAlgorithm::kXxh128;
  ProgressFn progress;
};

struct UploadResult {
  uint64_t size = 0;
  HashAlgorithm algorithm = HashAlgorithm::kXxh128;
  std::string digest;  // computed while sending, checked by the server and equal to its reply's
};

// Sends the regular file at `local_path` (symlinks to one are followed: it is only read).
absl::StatusOr<UploadResult> UploadFile(FileService::Stub* stub, ClientContext* context,
                                        const std::string& local_path,
                                        const std::string& remote_path,
                                        const UploadOptions& options);

// A copy of `status` (its code and message) that shares no storage with it. A streaming call's
// status is shared with the channel's I/O thread, and ThreadSanitizer cannot see the reference
// counting inside Debian's uninstrumented abseil: a shared status that outlives its stream object
// shows up as a (false) race. Everything this file returns is unshared; callers holding a
// stream's Finish() status past the stream's lifetime should do the same.
absl::Status UnsharedStatus(const absl::Status& status);

// Whether a failure of DownloadFile or UploadFile is the local file's (it cannot be opened, read
// or written, or is not a regular file) rather than the call's. The mark survives UnsharedStatus.
bool IsLocalFailure(const absl::Status& status);

}  // namespace framerpc::file

#endif  // FRAMERPC_SERVICES_FILE_FILE_CLIENT_H_

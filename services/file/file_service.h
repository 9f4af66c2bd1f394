// FileServiceImpl: the file service of services/file/file.proto (the API documentation), a thin
// RPC layer over RootDir (root_dir.h), which does the path resolution and the atomic uploads.
//
//   auto files = file::FileServiceImpl::Create("/srv/files", file::FileServiceOptions{});
//   server.AddService(files->get(), ServiceOptions{.run_inline = false});
//
// Add it with run_inline = false: its unary methods do file-system work (Stat with a checksum
// reads a whole file) and must not hold up an I/O thread. Download and Upload run on a thread of
// their own per call, like every streaming handler.
//
// Ownership and threading: not copyable; must outlive the Server it is added to. All methods are
// safe to call concurrently.
#ifndef FRAMERPC_SERVICES_FILE_FILE_SERVICE_H_
#define FRAMERPC_SERVICES_FILE_FILE_SERVICE_H_

#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/auth/access_policy.h"
#include "services/file/digest_cache.h"
#include "services/file/file.frpc.h"
#include "services/file/root_dir.h"
#include "services/file/transfer_tracker.h"

namespace framerpc::file {

inline constexpr size_t kMinChunkBytes = size_t{64} << 10;
inline constexpr size_t kMaxChunkBytes = size_t{1} << 20;

struct FileServiceOptions {
  // How the root is served; root.writable allows Upload, Delete and MakeDirectory.
  RootDirOptions root;
  // The most data bytes in one Download message, in [kMinChunkBytes, kMaxChunkBytes].
  size_t chunk_bytes = size_t{256} << 10;
  // The largest upload accepted.
  uint64_t max_upload_bytes = uint64_t{64} << 30;
  // Downloads, uploads and checksummed Stats running at once, across all clients (>= 1)...
  int max_transfers = 16;
  // ...and from one peer (rpc/peer_key.h: a TCP client's IP address, a Unix-socket client's
  // uid), so that one client cannot take every slot; 0: no per-peer cap. Clients behind one NAT
  // or proxy share an address, and so this cap.
  int max_transfers_per_peer = 4;
  // Which calls may read (Stat, List, Download) and which may also write (Upload, Delete,
  // MakeDirectory, on a writable root): services/auth/access_policy.h. Reads are open by default;
  // writes admit nobody until configured. A write must pass both.
  auth::AccessPolicy read_access = auth::AccessPolicy::Open();
  auth::AccessPolicy write_access;
  // The operator's statement that the files are public: open reads are then allowed on addresses
  // other hosts can reach (CheckFileServiceExposure).
  bool files_are_public = false;
  // The digests of whole files already hashed, per algorithm, reused by whole-file downloads and
  // checksummed Stats while the file is unchanged (digest_cache.h has the rule); max_entries = 0
  // turns it off.
  DigestCacheOptions digest_cache;
};

class FileServiceImpl final : public FileService::Service {
 public:
  // Opens `root_path` (see RootDir::Open). INVALID_ARGUMENT for options out of range.
  static absl::StatusOr<std::unique_ptr<FileServiceImpl>> Create(const std::string& root_path,
                                                                 FileServiceOptions options);

  absl::Status Stat(ServerContext* context, const StatRequest& request,
                    StatResponse* response) override;
  absl::Status List(ServerContext* context, const ListRequest& request,
                    ListResponse* response) override;
  absl::Status Download(ServerContext* context, const DownloadRequest& request,
                        ServerWriter<DownloadResponse>* writer) override;
  absl::Status Upload(ServerContext* context, ServerReader<UploadRequest>* reader,
                      UploadResponse* response) override;
  absl::Status Delete(ServerContext* context, const DeleteRequest& request,
                      DeleteResponse* response) override;
  absl::Status MakeDirectory(ServerContext* context, const MakeDirectoryRequest& request,
                             MakeDirectoryResponse* response) override;

  // The transfer counters and the caps (transfer_tracker.h).
  TransferTracker* tracker() { return &tracker_; }
  // Null when options().digest_cache.max_entries is 0.
  DigestCache* digest_cache() { return digest_cache_.get(); }
  const RootDir& root() const { return *root_; }
  const FileServiceOptions& options() const { return options_; }

 private:
  FileServiceImpl(std::unique_ptr<RootDir> root, FileServiceOptions options);

  // The digest in `algorithm` of the whole file open as `fd` (whose fstat is `st`), from the
  // digest cache when it holds this version in that algorithm; otherwise hashed, and stored if
  // the version did not change meanwhile.
  absl::StatusOr<std::string> WholeFileDigest(int fd, const struct stat& st,
                                              HashAlgorithm algorithm, const std::string& path,
                                              const ServerContext& context);

  // The access policies' verdict on the call: read_access, and for a write to a writable root
  // write_access as well.
  absl::Status CheckAccess(const ServerContext& context, bool write) const;

  const std::unique_ptr<RootDir> root_;
  const FileServiceOptions options_;
  TransferTracker tracker_;
  const std::unique_ptr<DigestCache> digest_cache_;
};

// The access rule for a server about to serve the file service on `listen_addresses` (as bound,
// numeric): on any address that is not loopback or a Unix socket, writes to a writable root must
// not be open to anyone, and reads must not be either unless files_are_public.
// FAILED_PRECONDITION, naming the address and what to do, when that rule is broken.
absl::Status CheckFileServiceExposure(const FileServiceOptions& options,
                                      const std::vector<std::string>& listen_addresses);

}  // namespace framerpc::file

#endif  // FRAMERPC_SERVICES_FILE_FILE_SERVICE_H_

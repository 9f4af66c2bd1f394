// framerpc_server's file-service settings: the --file_* and --auth_token_file flags turned into
// FileServiceOptions. The rule that a writable file service is never exposed beyond this host
// without a token is file::CheckFileServiceExposure. Kept out of main.cc so that it can be tested.
#ifndef FRAMERPC_SERVER_FILE_SETUP_H_
#define FRAMERPC_SERVER_FILE_SETUP_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "services/file/file_service.h"

namespace framerpc::server {

struct FileServiceFlags {
  std::string root;  // empty: no file service
  bool writable = false;
  uint64_t chunk_bytes = file::FileServiceOptions().chunk_bytes;
  uint64_t max_upload_bytes = file::FileServiceOptions().max_upload_bytes;
  int max_transfers = file::FileServiceOptions().max_transfers;
  // Whole-file SHA-256 digests remembered (services/file/digest_cache.h); 0 turns the cache off.
  int64_t digest_cache_entries =
      static_cast<int64_t>(file::FileServiceOptions().digest_cache.max_entries);
  std::string auth_token_file;  // empty: no token; otherwise every file call must carry it
  // Refuse files with more than one hard link and paths across mount points
  // (RootDirOptions::refuse_hard_links_and_mounts); unset: refuse when writable.
  std::optional<bool> refuse_hard_links_and_mounts;
};

// The options, with the token read from its file. Errors: the token file's
// (SharedSecret::FromFile), INVALID_ARGUMENT for a chunk size, transfer cap or digest cache size
// out of range.
absl::StatusOr<file::FileServiceOptions> BuildFileServiceOptions(const FileServiceFlags& flags);

}  // namespace framerpc::server

#endif  // FRAMERPC_SERVER_FILE_SETUP_H_

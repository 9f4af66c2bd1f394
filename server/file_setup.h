// framerpc_server's file-service settings: the --file_* and credential flags turned into
// FileServiceOptions. The rules on where it may be served are file::CheckFileServiceExposure.
// Kept out of main.cc so that it can be tested.
#ifndef FRAMERPC_SERVER_FILE_SETUP_H_
#define FRAMERPC_SERVER_FILE_SETUP_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "server/credential_flags.h"
#include "services/file/file_service.h"

namespace framerpc::server {

struct FileServiceFlags {
  std::string root;  // empty: no file service
  bool writable = false;
  uint64_t chunk_bytes = file::FileServiceOptions().chunk_bytes;
  uint64_t max_upload_bytes = file::FileServiceOptions().max_upload_bytes;
  int max_transfers = file::FileServiceOptions().max_transfers;
  // Of them, from one peer (a TCP client's IP address, a Unix-socket client's uid); 0: no cap.
  int max_transfers_per_peer = file::FileServiceOptions().max_transfers_per_peer;
  // Whole-file SHA-256 digests remembered (services/file/digest_cache.h); 0 turns the cache off.
  int64_t digest_cache_entries =
      static_cast<int64_t>(file::FileServiceOptions().digest_cache.max_entries);
  // --auth_token_file, --file_allow_uids, --trust_local_peers. Writes to a writable root need
  // one of them. Reads are open unless a token or uids are given, which reads then need too.
  CredentialFlags credentials;
  // --file_public: reads open to anyone, on every address.
  bool files_public = false;
  // Refuse files with more than one hard link and paths across mount points
  // (RootDirOptions::refuse_hard_links_and_mounts); unset: refuse when writable.
  std::optional<bool> refuse_hard_links_and_mounts;
};

// The options, with the token read from its file. Errors: the token file's
// (SharedSecret::FromFile), INVALID_ARGUMENT for a chunk size, transfer cap (overall or per
// peer), digest cache size or uid out of range, FAILED_PRECONDITION for a writable root whose writes would admit nobody.
absl::StatusOr<file::FileServiceOptions> BuildFileServiceOptions(const FileServiceFlags& flags);

}  // namespace framerpc::server

#endif  // FRAMERPC_SERVER_FILE_SETUP_H_

#include "server/file_setup.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace framerpc::server {
namespace {

// About 200 bytes each: 1M entries is ~200 MiB, more than any deployment of this needs.
constexpr int64_t kMaxDigestCacheEntries = int64_t{1} << 20;

}  // namespace

absl::StatusOr<file::FileServiceOptions> BuildFileServiceOptions(const FileServiceFlags& flags) {
  if (flags.chunk_bytes < file::kMinChunkBytes || flags.chunk_bytes > file::kMaxChunkBytes) {
    return absl::InvalidArgumentError(absl::StrCat("--file_chunk_bytes must be between ",
                                                   file::kMinChunkBytes, " and ",
                                                   file::kMaxChunkBytes, ", not ",
                                                   flags.chunk_bytes));
  }
  if (flags.max_transfers < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--file_max_transfers must be at least 1, not ", flags.max_transfers));
  }
  if (flags.max_transfers_per_peer < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--file_max_transfers_per_peer must not be negative (0: no per-peer cap), not ",
        flags.max_transfers_per_peer));
  }
  if (flags.digest_cache_entries < 0 || flags.digest_cache_entries > kMaxDigestCacheEntries) {
    return absl::InvalidArgumentError(
        absl::StrCat("--file_digest_cache_entries must be between 0 and ", kMaxDigestCacheEntries,
                     ", not ", flags.digest_cache_entries));
  }
  file::FileServiceOptions options;
  options.digest_cache.max_entries = static_cast<size_t>(flags.digest_cache_entries);
  options.root.writable = flags.writable;
  options.root.refuse_hard_links_and_mounts = flags.refuse_hard_links_and_mounts;
  options.chunk_bytes = static_cast<size_t>(flags.chunk_bytes);
  options.max_upload_bytes = flags.max_upload_bytes;
  options.max_transfers = flags.max_transfers;
  options.max_transfers_per_peer = flags.max_transfers_per_peer;
  absl::StatusOr<auth::AccessPolicy> writes =
      BuildAccessPolicy(flags.credentials, "--file_allow_uids", "writes to the file service",
                        "--file_allow_identities");
  if (!writes.ok()) return writes.status();
  if (flags.writable && !writes->admits_anyone()) {
    return absl::FailedPreconditionError(
        "a writable file service needs a credential for writes: --auth_token_file (a bearer "
        "token), --file_allow_identities (TLS client certificates naming these), "
        "--file_allow_uids (peers on unix: sockets with these uids), or "
        "--trust_local_peers (every user of this host; see docs/file_service.md)");
  }
  const bool reads_need_credentials =
      !flags.files_public &&
      (!flags.credentials.auth_token_file.empty() || !flags.credentials.allow_uids.empty() ||
       !flags.credentials.allow_identities.empty());
  if (reads_need_credentials) {
    options.read_access = *writes;
    options.read_access.set_subject("the file service");
  }
  options.write_access = *std::move(writes);
  options.files_are_public = flags.files_public;
  return options;
}

}  // namespace framerpc::server

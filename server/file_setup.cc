#include "server/file_setup.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "services/auth/shared_secret.h"

namespace framerpc::server {

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
  file::FileServiceOptions options;
  options.root.writable = flags.writable;
  options.chunk_bytes = static_cast<size_t>(flags.chunk_bytes);
  options.max_upload_bytes = flags.max_upload_bytes;
  options.max_transfers = flags.max_transfers;
  if (!flags.auth_token_file.empty()) {
    absl::StatusOr<auth::SharedSecret> token = auth::SharedSecret::FromFile(flags.auth_token_file);
    if (!token.ok()) return token.status();
    options.token = *std::move(token);
  }
  return options;
}

}  // namespace framerpc::server

// `framerpc_cli download` and `upload`: files to and from the file service
// (services/file/file.proto), verified by XXH3-128, or by SHA-256 with --checksum=sha256, with a
// progress bar on a terminal.
//
//   framerpc_cli download 127.0.0.1:7000 reports/q3.pdf ./q3.pdf [--continue]
//   framerpc_cli upload unix:/tmp/f.sock ./q3.pdf reports/q3.pdf [--overwrite] [--checksum=sha256]
//
// A download writes to the LOCAL path given and nowhere else, whatever the server sends
// (services/file/file_client.h has the rules). On success one line goes to `out`: what moved, the
// byte count, the algorithm and the digest (as xxh128sum or sha256sum prints it).
#ifndef FRAMERPC_CLI_TRANSFER_COMMANDS_H_
#define FRAMERPC_CLI_TRANSFER_COMMANDS_H_

#include <iosfwd>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "cli/cli_options.h"
#include "services/file/checksum.h"

namespace framerpc::cli {

// --checksum's value: "xxh3" or "sha256"; anything else is INVALID_ARGUMENT
// "--checksum must be xxh3 or sha256, not '<value>'".
absl::StatusOr<file::HashAlgorithm> ParseChecksumFlag(absl::string_view value);

// `args`: ADDR REMOTE LOCAL (or REMOTE LOCAL with options.address). Progress goes to `err` when
// options.transfer.progress is set.
absl::Status RunDownload(const CliOptions& options, absl::Span<const std::string> args,
                         std::ostream& out, std::ostream& err);

// `args`: ADDR LOCAL REMOTE (or LOCAL REMOTE with options.address).
absl::Status RunUpload(const CliOptions& options, absl::Span<const std::string> args,
                       std::ostream& out, std::ostream& err);

}  // namespace framerpc::cli

#endif  // FRAMERPC_CLI_TRANSFER_COMMANDS_H_

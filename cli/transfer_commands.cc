#include "cli/transfer_commands.h"

#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "cli/args.h"
#include "cli/call_context.h"
#include "cli/connect.h"
#include "cli/exit_code.h"
#include "cli/progress_bar.h"
#include "rpc/channel.h"
#include "services/file/checksum.h"
#include "services/file/file_client.h"

namespace framerpc::cli {
namespace {

// ADDR FIRST SECOND, or FIRST SECOND when --address is set.
struct TransferArgs {
  std::string address;
  std::string first;
  std::string second;
};

absl::StatusOr<TransferArgs> ParseTransferArgs(const CliOptions& options,
                                               absl::Span<const std::string> args,
                                               const char* usage) {
  if (args.size() == 3) return TransferArgs{args[0], args[1], args[2]};
  if (args.size() == 2 && !options.address.empty()) {
    return TransferArgs{options.address, args[0], args[1]};
  }
  return absl::InvalidArgumentError(absl::StrCat("usage: ", usage));
}

// Metadata, the token and the deadline, as for every command.
absl::Status PrepareTransferContext(const CliOptions& options, ClientContext* context) {
  FRPC_RETURN_IF_ERROR(PrepareContext(options, context));
  if (options.timeout != absl::InfiniteDuration()) context->set_timeout(options.timeout);
  return absl::OkStatus();
}

// The progress callback for the file client: a bar on `err` when asked for, else nothing.
file::ProgressFn ProgressTo(const CliOptions& options, std::optional<ProgressBar>* bar,
                            std::ostream& err, const std::string& label) {
  if (!options.transfer.progress) return nullptr;
  bar->emplace(&err, label);
  return [bar](uint64_t done, uint64_t total) { (*bar)->Update(done, total); };
}

}  // namespace

absl::StatusOr<file::HashAlgorithm> ParseChecksumFlag(absl::string_view value) {
  if (value == "xxh3") return file::HashAlgorithm::kXxh128;
  if (value == "sha256") return file::HashAlgorithm::kSha256;
  return absl::InvalidArgumentError(
      absl::StrCat("--checksum must be xxh3 or sha256, not '", value, "'"));
}

// What a download or an upload needs before it starts.
struct Transfer {
  TransferArgs target;
  file::HashAlgorithm checksum;
  ClientContext context;
  std::unique_ptr<Channel> channel;
  std::unique_ptr<file::FileService::Stub> stub;  // on `channel`
};

// Parses the command's arguments (`usage` names them) and --checksum, prepares the call's
// context and connects to the server.
absl::Status StartTransfer(const CliOptions& options, absl::Span<const std::string> args,
                           const char* usage, Transfer* transfer) {
  FRPC_ASSIGN_OR_RETURN(transfer->target, ParseTransferArgs(options, args, usage));
  FRPC_ASSIGN_OR_RETURN(transfer->checksum, ParseChecksumFlag(options.transfer.checksum));
  FRPC_RETURN_IF_ERROR(PrepareTransferContext(options, &transfer->context));
  FRPC_ASSIGN_OR_RETURN(transfer->channel, Connect(options, transfer->target.address));
  transfer->stub = std::make_unique<file::FileService::Stub>(transfer->channel.get());
  return absl::OkStatus();
}

absl::Status RunDownload(const CliOptions& options, absl::Span<const std::string> args,
                         std::ostream& out, std::ostream& err) {
  Transfer transfer;
  FRPC_RETURN_IF_ERROR(
      StartTransfer(options, args, "download ADDR REMOTE_PATH LOCAL_PATH [--continue]", &transfer));
  const TransferArgs& target = transfer.target;
  std::optional<ProgressBar> bar;
  file::DownloadOptions download;
  download.resume = options.transfer.resume;
  download.checksum = transfer.checksum;
  download.progress = ProgressTo(options, &bar, err, target.first);
  absl::StatusOr<file::DownloadResult> result = file::DownloadFile(
      transfer.stub.get(), &transfer.context, target.first, target.second, download);
  if (bar) bar->Finish();
  if (!result.ok()) {
    return file::IsLocalFailure(result.status()) ? result.status() : RpcFailure(result.status());
  }
  out << "downloaded '" << target.first << "' to '" << target.second << "': " << result->received
      << " bytes";
  if (result->offset > 0) out << " after the " << result->offset << " already there";
  out << ", " << result->file_size << " in all, " << file::AlgorithmName(result->algorithm) << " "
      << file::DigestToHex(result->digest) << " verified\n";
  return absl::OkStatus();
}

absl::Status RunUpload(const CliOptions& options, absl::Span<const std::string> args,
                       std::ostream& out, std::ostream& err) {
  Transfer transfer;
  FRPC_RETURN_IF_ERROR(
      StartTransfer(options, args, "upload ADDR LOCAL_PATH REMOTE_PATH [--overwrite]", &transfer));
  const TransferArgs& target = transfer.target;
  std::optional<ProgressBar> bar;
  file::UploadOptions upload;
  upload.overwrite = options.transfer.overwrite;
  upload.checksum = transfer.checksum;
  upload.progress = ProgressTo(options, &bar, err, target.first);
  absl::StatusOr<file::UploadResult> result =
      file::UploadFile(transfer.stub.get(), &transfer.context, target.first, target.second, upload);
  if (bar) bar->Finish();
  if (!result.ok()) {
    return file::IsLocalFailure(result.status()) ? result.status() : RpcFailure(result.status());
  }
  out << "uploaded '" << target.first << "' to '" << target.second << "': " << result->size
      << " bytes, " << file::AlgorithmName(result->algorithm) << " "
      << file::DigestToHex(result->digest) << " verified by the server\n";
  return absl::OkStatus();
}

}  // namespace framerpc::cli

#include "services/file/file_service.h"

#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "rpc/peer_key.h"
#include "base/status_macros.h"
#include "services/auth/call_credentials.h"
#include "services/auth/local_address.h"
#include "services/file/checksum.h"
#include "services/file/checksum_proto.h"
#include "services/file/client_path.h"
#include "services/file/download.h"
#include "services/file/file_io.h"
#include "services/file/stat_proto.h"
#include "services/file/upload.h"
#include "services/file/utf8.h"

namespace framerpc::file {

absl::StatusOr<std::unique_ptr<FileServiceImpl>> FileServiceImpl::Create(
    const std::string& root_path, FileServiceOptions options) {
  if (options.chunk_bytes < kMinChunkBytes || options.chunk_bytes > kMaxChunkBytes) {
    return absl::InvalidArgumentError(absl::StrCat("the chunk size must be between ",
                                                   kMinChunkBytes, " and ", kMaxChunkBytes,
                                                   " bytes, not ", options.chunk_bytes));
  }
  if (options.max_transfers < 1) {
    return absl::InvalidArgumentError("the maximum number of transfers must be at least 1");
  }
  if (options.max_transfers_per_peer < 0) {
    return absl::InvalidArgumentError(
        "the maximum number of transfers per peer must not be negative (0: no per-peer cap)");
  }
  FRPC_ASSIGN_OR_RETURN(std::unique_ptr<RootDir> root, RootDir::Open(root_path, options.root));
  return std::unique_ptr<FileServiceImpl>(new FileServiceImpl(std::move(root), std::move(options)));
}

FileServiceImpl::FileServiceImpl(std::unique_ptr<RootDir> root, FileServiceOptions options)
    : root_(std::move(root)),
      options_(std::move(options)),
      tracker_(options_.max_transfers, options_.max_transfers_per_peer),
      digest_cache_(options_.digest_cache.max_entries == 0
                        ? nullptr
                        : std::make_unique<DigestCache>(options_.digest_cache)) {}

absl::Status FileServiceImpl::CheckAccess(const ServerContext& context, bool write) const {
  const auth::CallCredentials credentials = auth::CredentialsOf(context);
  FRPC_RETURN_IF_ERROR(options_.read_access.Check(credentials));
  // A write to a read-only root goes on to be refused as such.
  if (write && options_.root.writable) return options_.write_access.Check(credentials);
  return absl::OkStatus();
}

absl::Status FileServiceImpl::Stat(ServerContext* context, const StatRequest& request,
                                   StatResponse* response) {
  FRPC_RETURN_IF_ERROR(CheckAccess(*context, /*write=*/false));
  FRPC_ASSIGN_OR_RETURN(const HashAlgorithm algorithm, AlgorithmFromProto(request.checksum()));
  FRPC_ASSIGN_OR_RETURN(const FileInfo info, root_->Stat(request.path()));
  FillFileStat(info, response->mutable_stat());
  const bool want_checksum = request.checksum() != CHECKSUM_UNSPECIFIED;
  if (!(request.want_sha256() || want_checksum) || info.type != FileType::kRegular) {
    return absl::OkStatus();
  }
  FRPC_ASSIGN_OR_RETURN(const TransferSlot slot, tracker_.Begin(PeerKey(*context)));
  // Hash what the opened file holds; report the size and time of that same file.
  FRPC_ASSIGN_OR_RETURN(const ScopedFd fd, root_->OpenForRead(request.path()));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return absl::InternalError("fstat of an open file failed");
  FillFileStat(FileInfoFromStat(st), response->mutable_stat());
  if (want_checksum) {
    FRPC_ASSIGN_OR_RETURN(std::string digest,
                          WholeFileDigest(fd.get(), st, algorithm, request.path(), *context));
    FillChecksum(algorithm, std::move(digest), response->mutable_checksum());
  }
  if (request.want_sha256()) {
    if (want_checksum && algorithm == HashAlgorithm::kSha256) {
      response->set_sha256(response->checksum().digest());
    } else {
      FRPC_ASSIGN_OR_RETURN(
          std::string digest,
          WholeFileDigest(fd.get(), st, HashAlgorithm::kSha256, request.path(), *context));
      response->set_sha256(std::move(digest));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> FileServiceImpl::WholeFileDigest(int fd, const struct stat& st,
                                                             HashAlgorithm algorithm,
                                                             const std::string& path,
                                                             const ServerContext& context) {
  const FileVersion version = FileVersion::Of(st);
  absl::Time hashing_started;
  if (digest_cache_) {
    if (std::optional<std::string> cached = digest_cache_->Lookup(version, algorithm)) {
      return *cached;
    }
    hashing_started = digest_cache_->Now();
  }
  Hasher hasher(algorithm);
  std::string buffer(options_.chunk_bytes, '\0');
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  absl::StatusOr<uint64_t> hashed =
      HashRange(fd, 0, size, &hasher, &buffer, path, [&context] { return context.IsCancelled(); });
  if (!hashed.ok()) return hashed.status();
  tracker_.Update([n = *hashed](TransferCounters* c) { c->bytes_hashed += n; });
  if (*hashed != size) {
    return absl::AbortedError(
        absl::StrCat(QuotePath(path), " shrank while its checksum was computed"));
  }
  std::string digest = hasher.Finish();
  if (digest_cache_ && FdHasVersion(fd, version)) {
    digest_cache_->Store(version, algorithm, digest, hashing_started);
  }
  return digest;
}

absl::Status FileServiceImpl::List(ServerContext* context, const ListRequest& request,
                                   ListResponse* response) {
  FRPC_RETURN_IF_ERROR(CheckAccess(*context, /*write=*/false));
  FRPC_ASSIGN_OR_RETURN(DirListing listing, root_->List(request.path(), request.start_after()));
  for (DirEntry& entry : listing.entries) {
    ListEntry* out = response->add_entries();
    if (IsValidUtf8(entry.name)) {
      out->set_name(std::move(entry.name));
    } else {
      out->set_raw_name(std::move(entry.name));
    }
    FillFileStat(entry.info, out->mutable_stat());
  }
  response->set_truncated(listing.truncated);
  return absl::OkStatus();
}

absl::Status FileServiceImpl::Download(ServerContext* context, const DownloadRequest& request,
                                       ServerWriter<DownloadResponse>* writer) {
  FRPC_RETURN_IF_ERROR(CheckAccess(*context, /*write=*/false));
  FRPC_RETURN_IF_ERROR(root_->ValidatePath(request.path()));
  FRPC_RETURN_IF_ERROR(AlgorithmFromProto(request.checksum()).status());
  FRPC_ASSIGN_OR_RETURN(const TransferSlot slot, tracker_.Begin(PeerKey(*context)));
  return ServeDownload(*root_, request, options_.chunk_bytes, digest_cache_.get(), *context,
                       writer, &tracker_);
}

absl::Status FileServiceImpl::Upload(ServerContext* context, ServerReader<UploadRequest>* reader,
                                     UploadResponse* response) {
  FRPC_RETURN_IF_ERROR(CheckAccess(*context, /*write=*/true));
  std::string first_data;
  FRPC_ASSIGN_OR_RETURN(
      const UploadHeader header,
      ReadUploadHeader(*root_, options_.max_upload_bytes, context, reader, &first_data));
  FRPC_ASSIGN_OR_RETURN(const TransferSlot slot, tracker_.Begin(PeerKey(*context)));
  absl::Status status = ReceiveUpload(*root_, header, std::move(first_data), context, reader,
                                      response, &tracker_);
  tracker_.Update([ok = status.ok()](TransferCounters* c) {
    ++(ok ? c->uploads_committed : c->uploads_failed);
  });
  return status;
}

absl::Status FileServiceImpl::Delete(ServerContext* context, const DeleteRequest& request,
                                     DeleteResponse* response) {
  FRPC_RETURN_IF_ERROR(CheckAccess(*context, /*write=*/true));
  return root_->Remove(request.path());
}

absl::Status FileServiceImpl::MakeDirectory(ServerContext* context,
                                            const MakeDirectoryRequest& request,
                                            MakeDirectoryResponse* response) {
  FRPC_RETURN_IF_ERROR(CheckAccess(*context, /*write=*/true));
  return root_->MakeDirectory(request.path());
}

absl::Status CheckFileServiceExposure(const FileServiceOptions& options,
                                      const std::vector<std::string>& listen_addresses) {
  for (const std::string& address : listen_addresses) {
    if (auth::IsLocalOnlyAddress(address)) continue;
    if (options.root.writable && options.write_access.is_open()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "a writable file service on ", address,
          ", which is not a loopback or Unix-socket address, would let anyone write: give it a "
          "shared-secret token (--auth_token_file)"));
    }
    if (options.read_access.is_open() && !options.files_are_public) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the file service on ", address,
          ", which is not a loopback or Unix-socket address, would let anyone read the files: "
          "give it a shared-secret token (--auth_token_file), or say that the files are public "
          "(--file_public)"));
    }
  }
  return absl::OkStatus();
}

}  // namespace framerpc::file

#include "services/file/upload.h"

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "services/file/checksum.h"
#include "services/file/checksum_proto.h"
#include "services/file/client_path.h"
#include "services/file/direct_writer.h"
#include "services/file/file_io.h"
#include "services/file/read_back.h"

namespace framerpc::file {
namespace {

absl::Status Cancelled() {
  return absl::CancelledError("the upload was cancelled; nothing was written");
}

// The digests the client said the data must have, each empty when not given.
struct ExpectedDigests {
  std::string final_sha256;  // the last message's `sha256`
  std::string final_digest;  // the last message's `digest`

  bool any() const { return !final_sha256.empty() || !final_digest.empty(); }
};

// Receives and writes the data, then reads it back to check it; the commit is the caller's.
class UploadSink {
 public:
  // The file is written with O_DIRECT where it can be (DirectWriter): nobody reads it before the
  // commit but the read-back, and its pages would only be copied into the page cache to be
  // written back by the fsync.
  UploadSink(const UploadHeader& header, HashAlgorithm algorithm, PendingFile* file,
             TransferTracker* tracker)
      : header_(header),
        algorithm_(algorithm),
        fd_(file->fd()),
        writer_(file->fd(), header.size(), header.path()),
        tracker_(tracker) {}

  absl::Status Accept(absl::string_view data) {
    if (data.size() > header_.size() - received_) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the upload to ", QuotePath(header_.path()), " sent more than the ", header_.size(),
          " bytes its header announced; nothing was written"));
    }
    FRPC_RETURN_IF_ERROR(writer_.Append(data));
    received_ += data.size();
    const uint64_t bytes = data.size();
    tracker_->Update([bytes](TransferCounters* c) { c->bytes_received += bytes; });
    return absl::OkStatus();
  }

  // After the client's half-close: the size check, then the digest of what the file holds (read
  // back: read_back.h) in the upload's algorithm against every expected digest given, the
  // header's and the last message's. Returns the digest.
  absl::StatusOr<std::string> Finish(const ExpectedDigests& expected_at_end,
                                     const std::function<bool()>& stop) {
    if (received_ != header_.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("the upload to ", QuotePath(header_.path()), " ended after ", received_,
                       " of the ", header_.size(), " bytes announced; nothing was written"));
    }
    FRPC_RETURN_IF_ERROR(writer_.Finish());
    FRPC_ASSIGN_OR_RETURN(std::string digest,
                          ReadBackDigest(fd_, header_.size(), algorithm_, header_.path(), stop));
    for (const std::string* expected :
         {&header_.sha256(), &header_.digest(), &expected_at_end.final_sha256,
          &expected_at_end.final_digest}) {
      if (!expected->empty() && digest != *expected) {
        tracker_->Update([](TransferCounters* c) { ++c->checksum_failures; });
        return absl::DataLossError(absl::StrCat("the upload to ", QuotePath(header_.path()),
                                                " has ", AlgorithmName(algorithm_), " ",
                                                DigestToHex(digest), ", not the expected ",
                                                DigestToHex(*expected), "; nothing was written"));
      }
    }
    return digest;
  }

 private:
  const UploadHeader& header_;
  const HashAlgorithm algorithm_;
  const int fd_;
  DirectWriter writer_;
  TransferTracker* const tracker_;
  uint64_t received_ = 0;
};

// `sha256` fields hold SHA-256 digests: an upload in another algorithm cannot check one.
absl::Status CheckSha256Allowed(HashAlgorithm algorithm, const std::string& sha256,
                                absl::string_view whose) {
  if (sha256.empty() || algorithm == HashAlgorithm::kSha256) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(whose, " sha256 field holds a SHA-256, but the upload's checksum is ",
                   AlgorithmName(algorithm), "; send the expected digest in `digest`"));
}

// The last message's checks: no data, and digests of the right size (the SHA-256 one's message
// as before the choice).
absl::Status CheckChecksumMessage(HashAlgorithm algorithm, const UploadRequest& message,
                                  const std::string& data) {
  FRPC_RETURN_IF_ERROR(CheckSha256Allowed(algorithm, message.sha256(), "the last message's"));
  if (!message.sha256().empty() &&
      (message.sha256().size() != Sha256::kDigestBytes || !data.empty())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the SHA-256 message must carry ", Sha256::kDigestBytes, " bytes of checksum and no data"));
  }
  if (!message.digest().empty() &&
      (message.digest().size() != DigestBytes(algorithm) || !data.empty())) {
    return absl::InvalidArgumentError(absl::StrCat("the checksum message must carry ",
                                                   DigestBytes(algorithm), " bytes of ",
                                                   AlgorithmName(algorithm), " and no data"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<UploadHeader> ReadUploadHeader(const RootDir& root, uint64_t max_upload_bytes,
                                              ServerContext* context,
                                              ServerReader<UploadRequest>* reader,
                                              std::string* first_data) {
  UploadRequest first;
  if (!reader->Read(&first, first_data)) {
    if (context->IsCancelled()) return Cancelled();
    return absl::InvalidArgumentError("the upload sent no header message");
  }
  if (!first.has_header()) {
    return absl::InvalidArgumentError("the first message of an upload must carry the header");
  }
  if (!first.data().empty()) {
    if (!first_data->empty()) {
      return absl::InvalidArgumentError(
          "an upload message carries its data in the attachment or in `data`, not both");
    }
    first_data->swap(*first.mutable_data());
  }
  UploadHeader header = std::move(*first.mutable_header());
  if (!root.options().writable) return absl::PermissionDeniedError("the file service is read-only");
  FRPC_RETURN_IF_ERROR(root.ValidatePath(header.path()));
  if (header.size() > max_upload_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat("an upload of ", header.size(),
                                                     " bytes exceeds the server's limit of ",
                                                     max_upload_bytes, " bytes"));
  }
  FRPC_ASSIGN_OR_RETURN(const HashAlgorithm algorithm, AlgorithmFromProto(header.checksum()));
  FRPC_RETURN_IF_ERROR(CheckSha256Allowed(algorithm, header.sha256(), "the header's"));
  if (!header.sha256().empty() && header.sha256().size() != Sha256::kDigestBytes) {
    return absl::InvalidArgumentError(absl::StrCat("the expected SHA-256 must be ",
                                                   Sha256::kDigestBytes, " bytes, not ",
                                                   header.sha256().size()));
  }
  FRPC_RETURN_IF_ERROR(CheckDigestSize(algorithm, header.digest(), "the header's digest"));
  // Early, so that a client does not send a whole file only to hear this; Commit checks again.
  if (!header.overwrite() && root.Stat(header.path()).ok()) {
    return absl::AlreadyExistsError(absl::StrCat(
        QuotePath(header.path()), " already exists; upload with overwrite to replace it"));
  }
  return header;
}

absl::Status ReceiveUpload(const RootDir& root, const UploadHeader& header,
                           std::string first_data, ServerContext* context,
                           ServerReader<UploadRequest>* reader, UploadResponse* response,
                           TransferTracker* tracker) {
  // ReadUploadHeader checked it.
  FRPC_ASSIGN_OR_RETURN(const HashAlgorithm algorithm, AlgorithmFromProto(header.checksum()));
  FRPC_ASSIGN_OR_RETURN(std::unique_ptr<PendingFile> file, root.CreateTemp(header.path()));
  UploadSink sink(header, algorithm, file.get(), tracker);
  FRPC_RETURN_IF_ERROR(sink.Accept(first_data));
  UploadRequest message;
  std::string data;
  ExpectedDigests expected;  // from the last message, if the client sent one
  while (reader->Read(&message, &data)) {
    if (message.has_header()) {
      return absl::InvalidArgumentError("an upload carries one header, in its first message");
    }
    if (expected.any()) {
      return absl::InvalidArgumentError("the upload sent a message after its checksum message");
    }
    if (!message.data().empty()) {
      if (!data.empty()) {
        return absl::InvalidArgumentError(
            "an upload message carries its data in the attachment or in `data`, not both");
      }
      data.swap(*message.mutable_data());
    }
    if (!message.sha256().empty() || !message.digest().empty()) {
      FRPC_RETURN_IF_ERROR(CheckChecksumMessage(algorithm, message, data));
      expected.final_sha256 = message.sha256();
      expected.final_digest = message.digest();
      continue;
    }
    FRPC_RETURN_IF_ERROR(sink.Accept(data));
  }
  if (context->IsCancelled()) return Cancelled();
  FRPC_ASSIGN_OR_RETURN(std::string digest,
                        sink.Finish(expected, [context] { return context->IsCancelled(); }));
  FRPC_RETURN_IF_ERROR(file->Commit(header.overwrite()));
  response->set_size(header.size());
  if (header.checksum() != CHECKSUM_UNSPECIFIED) {
    FillChecksum(algorithm, digest, response->mutable_checksum());
  }
  if (algorithm == HashAlgorithm::kSha256) response->set_sha256(std::move(digest));
  return absl::OkStatus();
}

}  // namespace framerpc::file

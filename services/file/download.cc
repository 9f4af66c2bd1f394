#include "services/file/download.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "services/file/checksum.h"
#include "services/file/checksum_proto.h"
#include "services/file/client_path.h"
#include "services/file/digest_cache.h"
#include "services/file/errno_status.h"
#include "services/file/file_io.h"
#include "services/file/stat_proto.h"

namespace framerpc::file {
namespace {

absl::Status ClientGone() { return absl::CancelledError("the download's call ended"); }

absl::Status Shrank(const std::string& path, uint64_t at) {
  return absl::AbortedError(absl::StrCat(QuotePath(path), " shrank during the download (it ends at ",
                                         at, " bytes now); download it again"));
}

// A cached digest vouches only for the version it was computed from; the bytes sent came from
// another one, so no trailer can be sent that is known to match them.
absl::Status ChangedDuringDownload(const std::string& path) {
  return absl::AbortedError(
      absl::StrCat(QuotePath(path), " changed during the download; download it again"));
}

// One download in progress: the open file, its range, the checksums, and the stream.
class Sender {
 public:
  // `known_digest`, when set, is the digest in `algorithm` of exactly the range to send (a cached
  // whole-file digest): the data is then not hashed, and the caller must check that the file did
  // not change. `named`: the request named the algorithm (the trailer's `checksum` fields).
  Sender(int fd, const std::string& path, uint64_t offset, uint64_t length, size_t chunk_bytes,
         HashAlgorithm algorithm, bool named, bool sha256_from_start,
         std::optional<std::string> known_digest, const ServerContext& context,
         ServerWriter<DownloadResponse>* writer, TransferTracker* tracker)
      : fd_(fd),
        path_(path),
        offset_(offset),
        length_(length),
        algorithm_(algorithm),
        named_(named),
        known_digest_(std::move(known_digest)),
        context_(context),
        writer_(writer),
        tracker_(tracker),
        sent_(algorithm) {
    // A small file gets a small buffer; hashing a prefix gets a whole chunk.
    const uint64_t to_read = std::max<uint64_t>(sha256_from_start ? offset : 0, length);
    buffer_.resize(static_cast<size_t>(std::clamp<uint64_t>(to_read, 1, chunk_bytes)));
    if (sha256_from_start) from_start_.emplace(algorithm);
  }

  // Hashes [0, offset) when the whole-file checksum was asked for.
  absl::Status HashPrefix() {
    if (!from_start_) return absl::OkStatus();
    FRPC_ASSIGN_OR_RETURN(const uint64_t hashed,
                          HashRange(fd_, 0, offset_, &*from_start_, &buffer_, path_,
                                    [this] { return context_.IsCancelled(); }));
    tracker_->Update([hashed](TransferCounters* c) { c->bytes_hashed += hashed; });
    if (hashed < offset_) return Shrank(path_, hashed);
    return absl::OkStatus();
  }

  absl::Status SendData() {
    for (uint64_t done = 0; done < length_;) {
      const size_t want = static_cast<size_t>(std::min<uint64_t>(buffer_.size(), length_ - done));
      FRPC_ASSIGN_OR_RETURN(const size_t got,
                            PreadFull(fd_, buffer_.data(), want, offset_ + done, path_));
      if (got < want) return Shrank(path_, offset_ + done + got);
      const absl::string_view chunk(buffer_.data(), got);
      if (!known_digest_) {
        sent_.Update(chunk);
        if (from_start_) from_start_->Update(chunk);
      }
      if (!WriteChunk(chunk)) return ClientGone();
      done += got;
    }
    return absl::OkStatus();
  }

  // The digest of the data sent. Call once, after SendData.
  std::string Digest() { return known_digest_ ? *known_digest_ : sent_.Finish(); }

  absl::Status SendTrailer(const std::string& digest) {
    DownloadResponse message;
    DownloadTrailer* trailer = message.mutable_trailer();
    std::optional<std::string> file_digest;
    // With a known digest the range is the whole file, so it is also the whole-file digest.
    if (from_start_) file_digest = known_digest_ ? digest : from_start_->Finish();
    if (algorithm_ == HashAlgorithm::kSha256) {
      trailer->set_sha256(digest);
      if (file_digest) trailer->set_file_sha256(*file_digest);
    }
    if (named_) {
      FillChecksum(algorithm_, digest, trailer->mutable_checksum());
      if (file_digest) FillChecksum(algorithm_, *file_digest, trailer->mutable_file_checksum());
    }
    return writer_->Write(message) ? absl::OkStatus() : ClientGone();
  }

 private:
  // Blocks while the client has granted no credit. The bytes travel as the attachment of an
  // empty message; over a transport without attachments (gRPC), in the message, at the cost of
  // a copy.
  bool WriteChunk(absl::string_view chunk) {
    tracker_->Update([](TransferCounters* c) { ++c->chunk_writes_started; });
    bool written;
    if (context_.attachments_supported()) {
      written = writer_->Write(data_message_, chunk);
    } else {
      DownloadResponse message;
      message.set_data(chunk.data(), chunk.size());
      written = writer_->Write(message);
    }
    const uint64_t bytes = chunk.size();
    const uint64_t hashed = known_digest_ ? 0 : bytes;
    tracker_->Update([bytes, hashed, written](TransferCounters* c) {
      ++c->chunk_writes_done;
      c->bytes_hashed += hashed;
      if (written) c->bytes_sent += bytes;
    });
    return written;
  }

  const int fd_;
  const std::string& path_;
  const uint64_t offset_;
  const uint64_t length_;
  const HashAlgorithm algorithm_;
  const bool named_;
  const std::optional<std::string> known_digest_;
  const ServerContext& context_;
  ServerWriter<DownloadResponse>* const writer_;
  TransferTracker* const tracker_;
  const DownloadResponse data_message_;  // empty
  std::string buffer_;
  Hasher sent_;
  std::optional<Hasher> from_start_;
};

}  // namespace

absl::Status ServeDownload(const RootDir& root, const DownloadRequest& request,
                           size_t chunk_bytes, DigestCache* digest_cache,
                           const ServerContext& context, ServerWriter<DownloadResponse>* writer,
                           TransferTracker* tracker) {
  const std::string& path = request.path();
  FRPC_ASSIGN_OR_RETURN(const HashAlgorithm algorithm, AlgorithmFromProto(request.checksum()));
  // The fd keeps reading the file it opened, whatever happens to the path from now on.
  FRPC_ASSIGN_OR_RETURN(const ScopedFd fd, root.OpenForRead(path));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) {
    return FileErrnoToStatus(errno, absl::StrCat("cannot stat ", QuotePath(path)));
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  const uint64_t offset = request.offset();
  if (offset > size) {
    return absl::OutOfRangeError(absl::StrCat("offset ", offset, " is beyond the end of ",
                                              QuotePath(path), " (", size, " bytes)"));
  }
  uint64_t length = size - offset;
  if (request.has_length()) length = std::min(length, request.length());
  ::posix_fadvise(fd.get(), static_cast<off_t>(offset), static_cast<off_t>(length),
                  POSIX_FADV_SEQUENTIAL);

  // Only a whole-file download can use, or fill, the digest cache; a range is hashed as sent.
  if (offset != 0 || length != size) digest_cache = nullptr;
  const FileVersion version = FileVersion::Of(st);
  std::optional<std::string> cached;
  absl::Time hashing_started;
  if (digest_cache != nullptr) {
    cached = digest_cache->Lookup(version, algorithm);
    hashing_started = digest_cache->Now();
  }
  const bool use_cached = cached.has_value();

  Sender sender(fd.get(), path, offset, length, chunk_bytes, algorithm,
                request.checksum() != CHECKSUM_UNSPECIFIED, request.sha256_from_start(),
                std::move(cached), context, writer, tracker);
  FRPC_RETURN_IF_ERROR(sender.HashPrefix());
  DownloadResponse message;
  DownloadHeader* header = message.mutable_header();
  FillFileStat(FileInfoFromStat(st), header->mutable_stat());
  header->set_offset(offset);
  header->set_length(length);
  header->set_chunk_bytes(static_cast<uint32_t>(chunk_bytes));
  header->set_checksum(request.checksum());
  if (!writer->Write(message)) return ClientGone();
  FRPC_RETURN_IF_ERROR(sender.SendData());
  std::string digest = sender.Digest();
  if (digest_cache != nullptr) {
    // Did the bytes sent come from the version the digest belongs to?
    const bool unchanged = FdHasVersion(fd.get(), version);
    if (use_cached && !unchanged) return ChangedDuringDownload(path);
    if (!use_cached && unchanged) {
      digest_cache->Store(version, algorithm, digest, hashing_started);
    }
  }
  return sender.SendTrailer(digest);
}

}  // namespace framerpc::file

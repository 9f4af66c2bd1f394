#include "services/file/file_client.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "base/scoped_fd.h"
#include "base/status_macros.h"
#include "services/file/checksum.h"
#include "services/file/checksum_proto.h"
#include "services/file/errno_status.h"
#include "services/file/file_io.h"

namespace framerpc::file {
namespace {

constexpr size_t kLocalReadBytes = size_t{1} << 20;

std::string Quoted(const std::string& path) { return absl::StrCat("'", path, "'"); }

constexpr char kLocalPayload[] = "framerpc.file/local";

// `status`, marked as a failure of the local file (IsLocalFailure).
absl::Status Local(absl::Status status) {
  status.SetPayload(kLocalPayload, absl::Cord("1"));
  return status;
}

absl::Status LocalError(int err, absl::string_view verb, const std::string& path) {
  return Local(FileErrnoToStatus(err, absl::StrCat("cannot ", verb, " ", Quoted(path))));
}

absl::Status NotARegularFile(const std::string& path, const struct stat& st) {
  const char* what = S_ISDIR(st.st_mode)   ? "a directory"
                     : S_ISLNK(st.st_mode) ? "a symlink"
                                           : "not a regular file";
  return Local(absl::FailedPreconditionError(
      absl::StrCat("local path ", Quoted(path), " is ", what,
                   "; a download writes only to a regular file at the path given")));
}

// What the local path holds before a download: nothing, or a regular file of `size` bytes.
struct LocalState {
  bool exists = false;
  uint64_t size = 0;
};

absl::StatusOr<LocalState> ProbeLocal(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return LocalState{};
    return LocalError(errno, "inspect", path);
  }
  if (!S_ISREG(st.st_mode)) return NotARegularFile(path, st);
  return LocalState{true, static_cast<uint64_t>(st.st_size)};
}

// Opens the download's target, the regular file at `path` itself (O_NOFOLLOW: a symlink swapped
// in since ProbeLocal is refused, not followed), created if absent, emptied unless `keep`. Read
// and write: a resumed download hashes the part already there.
absl::StatusOr<ScopedFd> OpenLocalTarget(const std::string& path, bool keep) {
  // O_NONBLOCK: a FIFO swapped in cannot block the open; it is refused just below.
  ScopedFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0666));
  if (!fd.valid()) {
    if (errno == ELOOP) {
      return Local(absl::FailedPreconditionError(absl::StrCat(
          "local path ", Quoted(path), " is a symlink; a download writes only to a regular file "
          "at the path given")));
    }
    return LocalError(errno, "open", path);
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return LocalError(errno, "inspect", path);
  if (!S_ISREG(st.st_mode)) return NotARegularFile(path, st);
  if (::fcntl(fd.get(), F_SETFL, 0) != 0) return LocalError(errno, "open", path);
  if (!keep && ::ftruncate(fd.get(), 0) != 0) return LocalError(errno, "truncate", path);
  return fd;
}

// One download in progress: the checks on what the server sends, and the local writes.
class DownloadSink {
 public:
  DownloadSink(const std::string& local_path, const DownloadOptions& options)
      : path_(local_path), options_(options) {}

  absl::Status Start(const DownloadHeader& header, uint64_t offset, bool created_by_us) {
    if (header.offset() != offset || header.offset() > header.stat().size() ||
        header.length() > header.stat().size() - header.offset()) {
      return absl::InternalError("the server's download header is inconsistent");
    }
    FRPC_ASSIGN_OR_RETURN(algorithm_, TrailerAlgorithm(header));
    header_ = header;
    created_ = created_by_us;
    sent_.emplace(algorithm_);
    FRPC_ASSIGN_OR_RETURN(fd_, OpenLocalTarget(path_, /*keep=*/options_.resume));
    if (options_.resume && offset > 0) {
      // The part we already have counts towards the whole-file checksum.
      whole_.emplace(algorithm_);
      std::string buffer(kLocalReadBytes, '\0');
      absl::StatusOr<uint64_t> hashed_or =
          HashRange(fd_.get(), 0, offset, &*whole_, &buffer, path_);
      if (!hashed_or.ok()) return Local(hashed_or.status());
      const uint64_t hashed = *hashed_or;
      if (hashed != offset) {
        return Local(absl::AbortedError(absl::StrCat("local file ", Quoted(path_),
                                                     " shrank while the download was starting")));
      }
    }
    if (::lseek(fd_.get(), static_cast<off_t>(offset), SEEK_SET) < 0) {
      return LocalError(errno, "seek in", path_);
    }
    // Blocks for the rest, the size unchanged: a cut-off download still ends where it stopped.
    FRPC_RETURN_IF_ERROR(Preallocate(fd_.get(), offset + header.length(), path_));
    Progress();
    return absl::OkStatus();
  }

  absl::Status Accept(absl::string_view data) {
    if (data.empty() || data.size() > header_.length() - received_) {
      return absl::InternalError("the server sent more data than its header announced");
    }
    if (absl::Status written = WriteAll(fd_.get(), data, path_); !written.ok()) {
      return Local(std::move(written));
    }
    sent_->Update(data);
    if (whole_) whole_->Update(data);
    received_ += data.size();
    Progress();
    return absl::OkStatus();
  }

  // Checks the trailer against what arrived; returns the whole file's digest.
  absl::StatusOr<std::string> Verify(const DownloadTrailer& trailer) {
    if (received_ != header_.length()) {
      return absl::InternalError(absl::StrCat("the server sent ", received_, " of the ",
                                              header_.length(), " bytes it announced"));
    }
    // A server that knows the choice names the algorithm; one from before sends SHA-256 only.
    const bool named = header_.checksum() != CHECKSUM_UNSPECIFIED;
    if (named && (trailer.checksum().algorithm() != header_.checksum() ||
                  (whole_ && trailer.file_checksum().algorithm() != header_.checksum()))) {
      return absl::InternalError("the server's trailer is not in the algorithm of its header");
    }
    const std::string& expected = named ? trailer.checksum().digest() : trailer.sha256();
    const std::string& expected_whole =
        named ? trailer.file_checksum().digest() : trailer.file_sha256();
    const absl::string_view name = AlgorithmName(algorithm_);
    std::string digest = sent_->Finish();
    if (expected != digest) {
      return absl::DataLossError(absl::StrCat(
          "the data received has ", name, " ", DigestToHex(digest), ", but the server sent ",
          DigestToHex(expected), ": it was damaged on the way"));
    }
    if (!whole_) return digest;
    std::string whole_digest = whole_->Finish();
    if (expected_whole != whole_digest) {
      return absl::DataLossError(
          absl::StrCat("the part of ", Quoted(path_),
                       " that was already there differs from the server's file "
                       "(",
                       name, " of the whole file ", DigestToHex(whole_digest), ", the server's ",
                       DigestToHex(expected_whole), "); delete it and download again"));
    }
    return whole_digest;
  }

  // After a checksum mismatch: back to what the local file held before this download.
  void RollBack() {
    if (!fd_.valid()) return;
    if (created_) {
      ::unlink(path_.c_str());
    } else if (::ftruncate(fd_.get(), static_cast<off_t>(header_.offset())) != 0) {
      // Nothing better to do: the DATA_LOSS error is reported either way.
    }
  }

  // After a cut-off: the file ends at what arrived, and the blocks reserved past it are freed
  // (ftruncate to the current size releases a KEEP_SIZE preallocation).
  void KeepReceived() {
    if (fd_.valid() &&
        ::ftruncate(fd_.get(), static_cast<off_t>(header_.offset() + received_)) != 0) {
      // The reservation stays until the file is next truncated; the error reported is the cut.
    }
  }

  bool started() const { return fd_.valid(); }
  HashAlgorithm algorithm() const { return algorithm_; }
  uint64_t received() const { return received_; }
  const DownloadHeader& header() const { return header_; }

 private:
  void Progress() {
    if (options_.progress) options_.progress(header_.offset() + received_, header_.stat().size());
  }

  // The algorithm the trailer will use: the header's echo of the one asked for, or SHA-256 from a
  // server older than the choice (it echoes nothing).
  absl::StatusOr<HashAlgorithm> TrailerAlgorithm(const DownloadHeader& header) const {
    if (header.checksum() == CHECKSUM_UNSPECIFIED) return HashAlgorithm::kSha256;
    if (header.checksum() != AlgorithmToProto(options_.checksum)) {
      return absl::InternalError(absl::StrCat("the server answered with checksum algorithm ",
                                              header.checksum(), ", not the ",
                                              AlgorithmName(options_.checksum), " asked for"));
    }
    return options_.checksum;
  }

  const std::string path_;
  const DownloadOptions& options_;
  DownloadHeader header_;
  HashAlgorithm algorithm_ = HashAlgorithm::kSha256;
  bool created_ = false;
  ScopedFd fd_;
  std::optional<Hasher> sent_;  // from Start on
  std::optional<Hasher> whole_;
  uint64_t received_ = 0;
};

// Reads the download's messages into `sink` until the trailer; returns the whole-file digest.
absl::StatusOr<std::string> ReceiveData(ClientReader<DownloadResponse>* reader,
                                        DownloadSink* sink) {
  DownloadResponse message;
  std::string data;
  while (reader->Read(&message, &data)) {
    if (message.has_trailer()) return sink->Verify(message.trailer());
    if (message.has_header()) return absl::InternalError("the server sent a second header");
    // In the attachment on the framed transport; a server behind another transport may use `data`.
    FRPC_RETURN_IF_ERROR(sink->Accept(data.empty() ? message.data() : data));
  }
  // Cut off: the call's own status says why.
  absl::Status status = UnsharedStatus(reader->Finish());
  if (status.ok()) status = absl::InternalError("the server ended the download without a trailer");
  return status;
}

// The server's reply to a committed upload: its size and digest must be ours.
absl::Status CheckUploadReply(const UploadResponse& response, uint64_t size,
                              HashAlgorithm algorithm, const std::string& digest) {
  const absl::string_view name = AlgorithmName(algorithm);
  if (!response.has_checksum() && algorithm != HashAlgorithm::kSha256) {
    // A server from before the choice: it ignored our algorithm and digest.
    return absl::FailedPreconditionError(absl::StrCat(
        "the server committed the upload without checking its ", name,
        " (it predates the checksum choice); it reports SHA-256 ", DigestToHex(response.sha256()),
        ". Upload with the SHA-256 checksum to have the server check it"));
  }
  const std::string& theirs =
      response.has_checksum() ? response.checksum().digest() : response.sha256();
  if (response.size() != size || theirs != digest ||
      (response.has_checksum() && response.checksum().algorithm() != AlgorithmToProto(algorithm))) {
    return absl::DataLossError(
        absl::StrCat("the server committed the upload but reports another "
                     "size or ",
                     name, " (", response.size(), " bytes, ", DigestToHex(theirs), "; sent ", size,
                     " bytes, ", DigestToHex(digest), ")"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status UnsharedStatus(const absl::Status& status) {
  if (status.ok()) return status;
  absl::Status copy(status.code(), std::string(status.message()));
  if (IsLocalFailure(status)) copy = Local(std::move(copy));
  return copy;
}

bool IsLocalFailure(const absl::Status& status) {
  return status.GetPayload(kLocalPayload).has_value();
}

absl::StatusOr<DownloadResult> DownloadFile(FileService::Stub* stub, ClientContext* context,
                                            const std::string& remote_path,
                                            const std::string& local_path,
                                            const DownloadOptions& options) {
  FRPC_ASSIGN_OR_RETURN(const LocalState local, ProbeLocal(local_path));
  const uint64_t offset = options.resume ? local.size : 0;
  DownloadRequest request;
  request.set_path(remote_path);
  request.set_offset(offset);
  request.set_sha256_from_start(offset > 0);
  request.set_checksum(AlgorithmToProto(options.checksum));
  context->set_stream_receive_window(options.receive_window_bytes);
  std::unique_ptr<ClientReader<DownloadResponse>> reader = stub->Download(context, request);

  DownloadResponse first;
  if (!reader->Read(&first)) {
    absl::Status status = UnsharedStatus(reader->Finish());
    if (status.ok()) status = absl::InternalError("the server ended the download without a header");
    return status;
  }
  DownloadSink sink(local_path, options);
  absl::Status status = first.has_header()
                            ? sink.Start(first.header(), offset, !local.exists)
                            : absl::InternalError("the server's first message is not a header");
  absl::StatusOr<std::string> digest = status.ok() ? ReceiveData(reader.get(), &sink) : status;
  if (digest.ok()) {
    status = UnsharedStatus(reader->Finish());
  } else {
    status = digest.status();
    context->TryCancel();  // the server may still be sending
  }
  if (absl::IsDataLoss(status)) sink.RollBack();
  if (!status.ok()) {
    if (!sink.started() || absl::IsDataLoss(status)) return status;
    sink.KeepReceived();
    absl::Status kept(status.code(),
                      absl::StrCat(status.message(), " (", Quoted(local_path), " keeps the first ",
                                   offset + sink.received(), " bytes; resume to continue)"));
    return IsLocalFailure(status) ? Local(std::move(kept)) : kept;
  }
  DownloadResult result;
  result.file_size = sink.header().stat().size();
  result.offset = offset;
  result.received = sink.received();
  result.algorithm = sink.algorithm();
  result.digest = *std::move(digest);
  return result;
}

absl::StatusOr<UploadResult> UploadFile(FileService::Stub* stub, ClientContext* context,
                                        const std::string& local_path,
                                        const std::string& remote_path,
                                        const UploadOptions& options) {
  ScopedFd fd(::open(local_path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (!fd.valid()) return LocalError(errno, "open", local_path);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return LocalError(errno, "inspect", local_path);
  if (!S_ISREG(st.st_mode)) {
    return Local(absl::FailedPreconditionError(
        absl::StrCat("local path ", Quoted(local_path), " is not a regular file")));
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);

  UploadResponse response;
  std::unique_ptr<ClientWriter<UploadRequest>> writer = stub->Upload(context, &response);
  UploadRequest message;
  UploadHeader* header = message.mutable_header();
  header->set_path(remote_path);
  header->set_size(size);
  header->set_overwrite(options.overwrite);
  header->set_checksum(AlgorithmToProto(options.checksum));
  bool open = writer->Write(message);

  Hasher hasher(options.checksum);
  std::string buffer(static_cast<size_t>(std::clamp<uint64_t>(size, 1, options.chunk_bytes)), '\0');
  const UploadRequest data_message;
  uint64_t sent = 0;
  if (options.progress) options.progress(0, size);
  while (open && sent < size) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(buffer.size(), size - sent));
    absl::StatusOr<size_t> got = PreadFull(fd.get(), buffer.data(), want, sent, local_path);
    if (!got.ok() || *got < want) {
      context->TryCancel();  // the server drops the temp file
      writer->Finish().IgnoreError();
      if (!got.ok()) return Local(got.status());
      return Local(absl::AbortedError(
          absl::StrCat("local file ", Quoted(local_path), " shrank during the upload")));
    }
    const absl::string_view chunk(buffer.data(), *got);
    hasher.Update(chunk);
    open = writer->Write(data_message, chunk);
    sent += *got;
    if (open && options.progress) options.progress(sent, size);
  }
  const std::string digest = hasher.Finish();
  if (open) {
    message.Clear();
    // SHA-256 in the field every server checks, so that one older than the choice checks it too.
    if (options.checksum == HashAlgorithm::kSha256) {
      message.set_sha256(digest);
    } else {
      message.set_digest(digest);
    }
    open = writer->Write(message);
  }
  if (open) writer->WritesDone();
  FRPC_RETURN_IF_ERROR(UnsharedStatus(writer->Finish()));
  FRPC_RETURN_IF_ERROR(CheckUploadReply(response, size, options.checksum, digest));
  return UploadResult{size, options.checksum, digest};
}

}  // namespace framerpc::file

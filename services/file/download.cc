#include "services/file/download.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "rpc/status_macros.h"
#include "services/file/client_path.h"
#include "services/file/errno_status.h"
#include "services/file/file_io.h"
#include "services/file/sha256.h"
#include "services/file/stat_proto.h"

namespace framerpc::file {
namespace {

absl::Status ClientGone() { return absl::CancelledError("the download's call ended"); }

absl::Status Shrank(const std::string& path, uint64_t at) {
  return absl::AbortedError(absl::StrCat(QuotePath(path), " shrank during the download (it ends at ",
                                         at, " bytes now); download it again"));
}

// Over a transport without attachments (gRPC) the data goes in the message, at the cost of a
// copy.
bool WriteInMessage(absl::string_view chunk, ServerWriter<DownloadResponse>* writer) {
  DownloadResponse message;
  message.set_data(chunk.data(), chunk.size());
  return writer->Write(message);
}

}  // namespace

absl::Status ServeDownload(const RootDir& root, const DownloadRequest& request,
                           size_t chunk_bytes, const ServerContext& context,
                           ServerWriter<DownloadResponse>* writer, TransferTracker* tracker) {
  const std::string& path = request.path();
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

  // A small file gets a small buffer; hashing a prefix gets a whole chunk.
  const uint64_t to_read = std::max<uint64_t>(request.sha256_from_start() ? offset : 0, length);
  std::string buffer(static_cast<size_t>(std::clamp<uint64_t>(to_read, 1, chunk_bytes)), '\0');
  std::optional<Sha256> from_start;
  if (request.sha256_from_start()) {
    from_start.emplace();
    FRPC_ASSIGN_OR_RETURN(const uint64_t hashed,
                          HashRange(fd.get(), 0, offset, &*from_start, &buffer, path,
                                    [&context] { return context.IsCancelled(); }));
    if (hashed < offset) return Shrank(path, hashed);
  }

  DownloadResponse message;
  DownloadHeader* header = message.mutable_header();
  FillFileStat(FileInfoFromStat(st), header->mutable_stat());
  header->set_offset(offset);
  header->set_length(length);
  header->set_chunk_bytes(static_cast<uint32_t>(chunk_bytes));
  if (!writer->Write(message)) return ClientGone();

  Sha256 sent;
  const DownloadResponse data_message;  // empty: the bytes travel as the attachment
  for (uint64_t done = 0; done < length;) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(buffer.size(), length - done));
    FRPC_ASSIGN_OR_RETURN(const size_t got,
                          PreadFull(fd.get(), buffer.data(), want, offset + done, path));
    if (got < want) return Shrank(path, offset + done + got);
    const absl::string_view chunk(buffer.data(), got);
    sent.Update(chunk);
    if (from_start) from_start->Update(chunk);
    tracker->Update([](TransferCounters* c) { ++c->chunk_writes_started; });
    const bool written = context.attachments_supported() ? writer->Write(data_message, chunk)
                                                         : WriteInMessage(chunk, writer);
    tracker->Update([got, written](TransferCounters* c) {
      ++c->chunk_writes_done;
      if (written) c->bytes_sent += got;
    });
    if (!written) return ClientGone();
    done += got;
  }

  message.Clear();
  DownloadTrailer* trailer = message.mutable_trailer();
  trailer->set_sha256(sent.Finish());
  if (from_start) trailer->set_file_sha256(from_start->Finish());
  if (!writer->Write(message)) return ClientGone();
  return absl::OkStatus();
}

}  // namespace framerpc::file

// The server side of FileService.Download (file.proto): header, data chunks as raw attachments,
// trailer with the digest of what was sent, in the request's checksum algorithm (SHA-256 in the
// `sha256` fields when it names none, as before the choice).
//
// The file is read with pread into one reusable chunk buffer and handed to the stream, which
// blocks while the client has granted no flow-control credit: a client that stops reading stops
// the download after one window, and the server holds at most the window plus one chunk for it.
// (docs/file_service.md compares pread with sendfile, splice and mmap.)
//
// Thread safety: a function of its arguments; call it from the handler thread of one call.
#ifndef FRAMERPC_SERVICES_FILE_DOWNLOAD_H_
#define FRAMERPC_SERVICES_FILE_DOWNLOAD_H_

#include <cstddef>

#include "absl/status/status.h"
#include "rpc/context.h"
#include "rpc/stream.h"
#include "services/file/digest_cache.h"
#include "services/file/file.pb.h"
#include "services/file/root_dir.h"
#include "services/file/transfer_tracker.h"

namespace framerpc::file {

// Sends `request`'s range of the file beneath `root` in data messages of at most `chunk_bytes`.
// Counts its chunks and bytes in `tracker`. The caller has checked access and holds a slot.
//
// An unknown checksum algorithm is INVALID_ARGUMENT before the file is opened.
//
// A whole-file download takes its trailer's digest from `digest_cache` (may be null) when the
// file's version is there in the request's algorithm, and then hashes nothing; if the file's
// version (fstat of the open fd) is different after the data was read, the call ends ABORTED "'…'
// changed during the download" instead of sending a trailer that may not match the bytes. A
// whole-file download that hashed the data stores its digest when the version did not change.
// Ranges (offset > 0, or a length short of the end) are always hashed as they are sent.
absl::Status ServeDownload(const RootDir& root, const DownloadRequest& request,
                           size_t chunk_bytes, DigestCache* digest_cache,
                           const ServerContext& context, ServerWriter<DownloadResponse>* writer,
                           TransferTracker* tracker);

}  // namespace framerpc::file

#endif  // FRAMERPC_SERVICES_FILE_DOWNLOAD_H_

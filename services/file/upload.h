// The server side of FileService.Upload (file.proto): a header message, then the data as raw
// attachments, written to a PendingFile (root_dir.h) that is committed only when the size and
// the optional expected digests match. The digest checked, and sent in the reply, is that of the
// staged file's content read back through its own fd (read_back.h), not of the bytes as they
// arrived, in the header's checksum algorithm (SHA-256 when it names none). Every other way out
// (an error, a cancelled or cut-off call, a mismatch) destroys the PendingFile, which removes its
// temp file: nothing is left behind.
//
// Thread safety: a function of its arguments; call it from the handler thread of one call.
#ifndef FRAMERPC_SERVICES_FILE_UPLOAD_H_
#define FRAMERPC_SERVICES_FILE_UPLOAD_H_

#include <cstdint>
#include <optional>

#include "absl/status/status.h"
#include "rpc/context.h"
#include "rpc/stream.h"
#include "services/file/file.pb.h"
#include "services/file/root_dir.h"
#include "services/file/transfer_tracker.h"

namespace framerpc::file {

// Reads the upload's first message and checks it against the service's rules: it must carry the
// header, the path must be writable under `root`, the size at most `max_upload_bytes`, the
// checksum algorithm known, the expected digests empty or of the algorithm's size (and `sha256`
// only with SHA-256), and without overwrite the target must not exist yet. Touches nothing.
// Leaves any data that came with the header in `*first_data`.
absl::StatusOr<UploadHeader> ReadUploadHeader(const RootDir& root, uint64_t max_upload_bytes,
                                              ServerContext* context,
                                              ServerReader<UploadRequest>* reader,
                                              std::string* first_data);

// Receives the data announced by `header` (the first part of it is `first_data`), then commits.
// The caller has checked access and holds a transfer slot.
absl::Status ReceiveUpload(const RootDir& root, const UploadHeader& header,
                           std::string first_data, ServerContext* context,
                           ServerReader<UploadRequest>* reader, UploadResponse* response,
                           TransferTracker* tracker);

}  // namespace framerpc::file

#endif  // FRAMERPC_SERVICES_FILE_UPLOAD_H_

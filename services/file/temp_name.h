// Names for the hidden temp files an upload may need in the target's directory. These names are
// reserved: RootDir refuses every client path with a component that IsTempName, and leaves them
// out of listings, so that no client can see, read, replace or remove an upload in progress.
// Thread-safe.
#ifndef FRAMERPC_SERVICES_FILE_TEMP_NAME_H_
#define FRAMERPC_SERVICES_FILE_TEMP_NAME_H_

#include <string>

#include "absl/strings/string_view.h"

namespace framerpc::file {

// Every temp name starts with this, so operators can recognise (and clean up after a crash)
// leftovers.
inline constexpr char kTempNamePrefix[] = ".frpc-upload-";

// How often a caller draws another name when one is taken (O_EXCL / linkat say EEXIST).
inline constexpr int kMaxTempNameAttempts = 32;

// kTempNamePrefix + 16 hex digits: 32 random bits (getrandom) and a per-process counter, so a
// name never repeats within a process and rarely collides with another process's.
std::string NewTempName();

// Whether `name` (one path component) starts with kTempNamePrefix.
bool IsTempName(absl::string_view name);

}  // namespace framerpc::file

#endif  // FRAMERPC_SERVICES_FILE_TEMP_NAME_H_

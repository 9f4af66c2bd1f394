// FileInfo (file_info.h) as the FileStat message of file.proto. Stateless; thread-safe.
#ifndef FRAMERPC_SERVICES_FILE_STAT_PROTO_H_
#define FRAMERPC_SERVICES_FILE_STAT_PROTO_H_

#include "services/file/file.pb.h"
#include "services/file/file_info.h"

namespace framerpc::file {

void FillFileStat(const FileInfo& info, FileStat* stat);

}  // namespace framerpc::file

#endif  // FRAMERPC_SERVICES_FILE_STAT_PROTO_H_

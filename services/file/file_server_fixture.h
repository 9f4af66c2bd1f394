// A FileServiceImpl served on 127.0.0.1:0 (or a Unix socket), with a channel and a stub to it,
// for the file service's end-to-end tests. Also: deterministic test content and sparse files.
//
// Not thread-safe to set up; the stub and channel are as thread-safe as any.
#ifndef FRAMERPC_SERVICES_FILE_FILE_SERVER_FIXTURE_H_
#define FRAMERPC_SERVICES_FILE_FILE_SERVER_FIXTURE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "rpc/channel.h"
#include "rpc/server.h"
#include "services/file/file_service.h"

namespace framerpc::file {

class FileServer {
 public:
  FileServer() = default;
  ~FileServer();
  FileServer(const FileServer&) = delete;
  FileServer& operator=(const FileServer&) = delete;

  // Serves `root` with `options` on `address` ("127.0.0.1:0" or "unix:/path"), and connects.
  absl::Status Start(const std::string& root, FileServiceOptions options,
                     const std::string& address = "127.0.0.1:0");

  // The server's options for Start(): one I/O thread and two workers unless changed before it.
  ServerOptions* server_options() { return &server_options_; }

  FileServiceImpl* service() { return service_.get(); }
  Server* server() { return server_.get(); }
  Channel* channel() { return channel_.get(); }
  FileService::Stub* stub() { return stub_.get(); }
  TransferTracker* tracker() { return service_->tracker(); }

 private:
  static ServerOptions DefaultServerOptions();

  ServerOptions server_options_ = DefaultServerOptions();
  std::unique_ptr<FileServiceImpl> service_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<Channel> channel_;
  std::unique_ptr<FileService::Stub> stub_;
};

// `size` bytes of pseudo-random content, the same for the same seed.
std::string TestContent(size_t size, uint32_t seed = 1);

// Creates `path` as a sparse file of `size` bytes holding `data` at `offset` (zeros elsewhere).
absl::Status MakeSparseFile(const std::string& path, uint64_t size, uint64_t offset,
                            absl::string_view data);

}  // namespace framerpc::file

#endif  // FRAMERPC_SERVICES_FILE_FILE_SERVER_FIXTURE_H_

#include "services/file/file_server_fixture.h"

#include <fcntl.h>
#include <unistd.h>

#include <random>
#include <utility>

#include "base/scoped_fd.h"
#include "base/status_macros.h"
#include "services/file/errno_status.h"

namespace framerpc::file {

FileServer::~FileServer() {
  stub_.reset();
  channel_.reset();
  if (server_) server_->Shutdown(absl::Seconds(5));
}

ServerOptions FileServer::DefaultServerOptions() {
  ServerOptions options;
  options.io_threads = 1;
  options.worker_threads = 2;
  return options;
}

absl::Status FileServer::Start(const std::string& root, FileServiceOptions options,
                               const std::string& address) {
  FRPC_ASSIGN_OR_RETURN(service_, FileServiceImpl::Create(root, std::move(options)));
  server_ = std::make_unique<Server>(server_options_);
  FRPC_RETURN_IF_ERROR(server_->AddService(service_.get(), ServiceOptions{.run_inline = false}));
  FRPC_RETURN_IF_ERROR(server_->AddListener(address));
  FRPC_RETURN_IF_ERROR(server_->Start());
  FRPC_ASSIGN_OR_RETURN(channel_, Channel::Create(server_->listen_address(0)));
  stub_ = std::make_unique<FileService::Stub>(channel_.get());
  return absl::OkStatus();
}

std::string TestContent(size_t size, uint32_t seed) {
  std::mt19937 random(seed);
  std::string content(size, '\0');
  for (char& c : content) c = static_cast<char>(random());
  return content;
}

absl::Status MakeSparseFile(const std::string& path, uint64_t size, uint64_t offset,
                            absl::string_view data) {
  ScopedFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.valid()) return FileErrnoToStatus(errno, "open " + path);
  if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0) {
    return FileErrnoToStatus(errno, "ftruncate " + path);
  }
  if (::pwrite(fd.get(), data.data(), data.size(), static_cast<off_t>(offset)) !=
      static_cast<ssize_t>(data.size())) {
    return FileErrnoToStatus(errno, "pwrite " + path);
  }
  return absl::OkStatus();
}

}  // namespace framerpc::file

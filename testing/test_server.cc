#include "testing/test_server.h"

#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace framerpc::testing {

ServerOptions TestServerOptions::DefaultServerOptions() {
  ServerOptions options;
  options.io_threads = 1;
  options.worker_threads = 2;
  return options;
}

absl::StatusOr<std::unique_ptr<TestServer>> TestServer::Start(std::vector<Service*> services,
                                                              TestServerOptions options) {
  std::unique_ptr<TestServer> test(new TestServer());
  test->server_ = std::make_unique<Server>(options.server);
  for (Service* service : services) {
    FRPC_RETURN_IF_ERROR(
        test->server_->AddService(service, {.run_inline = !options.run_on_workers}));
  }
  if (options.in_process) {
    test->in_process_ = test->server_->in_process_connector();  // before Start: its way in
    FRPC_RETURN_IF_ERROR(test->server_->Start());
    test->address_ = kInProcessTarget;
    FRPC_ASSIGN_OR_RETURN(test->channel_, test->NewChannel(options.channel));
    return test;
  }
  std::string listen = "127.0.0.1:0";
  if (options.unix_socket) {
    // A socket path holds at most 107 bytes, and Bazel's $TEST_TMPDIR is often longer.
    const char* tmp = ::getenv("TEST_TMPDIR");
    std::string base = tmp != nullptr ? tmp : "/tmp";
    if (base.size() > 64) base = "/tmp";
    std::string dir = absl::StrCat(base, "/frpc-test.XXXXXX");
    if (::mkdtemp(dir.data()) == nullptr) {
      return absl::ErrnoToStatus(errno, absl::StrCat("mkdtemp ", dir));
    }
    test->socket_dir_ = dir;
    listen = absl::StrCat("unix:", dir, "/server.sock");
  }
  FRPC_RETURN_IF_ERROR(test->server_->AddListener(listen));
  FRPC_RETURN_IF_ERROR(test->server_->Start());
  test->address_ = test->server_->listen_address(0);
  FRPC_ASSIGN_OR_RETURN(test->channel_, Channel::Create(test->address_, options.channel));
  return test;
}

TestServer::~TestServer() {
  channel_.reset();
  if (server_ != nullptr) server_->Shutdown(absl::Seconds(5));
  server_.reset();
  if (!socket_dir_.empty()) {
    ::unlink(absl::StrCat(socket_dir_, "/server.sock").c_str());
    ::rmdir(socket_dir_.c_str());
  }
}

absl::StatusOr<std::unique_ptr<Channel>> TestServer::NewChannel(ChannelOptions options) const {
  if (in_process_ != nullptr) return NewInProcessChannel(in_process_, std::move(options));
  return Channel::Create(address_, std::move(options));
}

}  // namespace framerpc::testing

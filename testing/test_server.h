// TestServer: a framerpc Server for tests of a service, on a loopback port the kernel picks
// (127.0.0.1:0), a Unix socket in the test's temporary directory, or in-process only (no socket
// at all: rpc/in_process_channel.h), with a Channel to it.
//
//   echo::EchoServiceImpl echo;
//   absl::StatusOr<std::unique_ptr<testing::TestServer>> server =
//       testing::TestServer::Start({&echo});
//   echo::EchoService::Stub stub((*server)->channel());
//
// In-process (TestServerOptions::in_process) is the fastest and most hermetic: no port, no file,
// the same server and channel code, frames carried through memory.
// The services are not owned and must outlive the TestServer. Destroying it shuts the server
// down (a bounded grace) after closing its channel. Not thread-safe to start or destroy; the
// channel is as thread-safe as any Channel.
#ifndef FRAMERPC_TESTING_TEST_SERVER_H_
#define FRAMERPC_TESTING_TEST_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "rpc/channel.h"
#include "rpc/in_process_channel.h"
#include "rpc/server.h"
#include "rpc/service.h"

namespace framerpc::testing {

struct TestServerOptions {
  // Small by default: one I/O thread, two workers.
  ServerOptions server = DefaultServerOptions();
  // Serve on a Unix socket in a fresh directory under $TEST_TMPDIR (or /tmp, when that path is
  // too long for a socket) instead of 127.0.0.1:0.
  bool unix_socket = false;
  // Serve in-process channels only: no listener, no port, no file. The channel's blocking calls
  // then share its one connection (see rpc/in_process_channel.h for what else differs).
  bool in_process = false;
  // Run each service's handlers on the worker pool (for handlers that block, and every
  // streaming one that waits); false runs them on the I/O thread.
  bool run_on_workers = true;
  ChannelOptions channel;

  static ServerOptions DefaultServerOptions();
};

class TestServer {
 public:
  // Starts a server with `services` and connects a channel to it. Errors: the server's
  // (duplicate service, bind failure) and the channel's.
  static absl::StatusOr<std::unique_ptr<TestServer>> Start(std::vector<Service*> services,
                                                           TestServerOptions options = {});
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  Channel* channel() const { return channel_.get(); }
  Server* server() const { return server_.get(); }
  // "127.0.0.1:<port>" or "unix:<path>", as a Channel takes it; "in-process" for an in-process
  // server (which Channel::Create does not take: use NewChannel).
  const std::string& address() const { return address_; }
  // Another channel to the server (its own connection): in-process for an in-process server.
  absl::StatusOr<std::unique_ptr<Channel>> NewChannel(ChannelOptions options = {}) const;

 private:
  TestServer() = default;

  std::string socket_dir_;  // removed at destruction (unix_socket only)
  std::shared_ptr<InProcessConnector> in_process_;  // in_process only
  std::unique_ptr<Server> server_;
  std::string address_;
  std::unique_ptr<Channel> channel_;
};

}  // namespace framerpc::testing

#endif  // FRAMERPC_TESTING_TEST_SERVER_H_

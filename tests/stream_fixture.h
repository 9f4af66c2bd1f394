// Test fixture for streaming calls end to end: a Server with StreamTestServiceImpl (two I/O
// threads) listening on TCP loopback, or on a Unix socket when the parameter is true, and a
// channel and stub to it. For tests/stream_test.cc and tests/stream_blocking_read_test.cc.
#ifndef FRAMERPC_TESTS_STREAM_FIXTURE_H_
#define FRAMERPC_TESTS_STREAM_FIXTURE_H_

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "rpc/channel.h"
#include "rpc/server.h"
#include "tests/stream_service.h"
#include "tests/test_util.h"

namespace framerpc::test {

class StreamServerTest : public testing::TestWithParam<bool /*unix socket*/> {
 protected:
  void SetUp() override { StartServer(ServerOptions{}); }

  // Replaces the server (and channel) with one started with `options` (io_threads: 2).
  void StartServer(ServerOptions options) {
    options.io_threads = 2;
    server_ = std::make_unique<Server>(options);
    FRPC_ASSERT_OK(server_->AddService(&service_));
    const std::string address =
        GetParam() ? absl::StrCat("unix:", MakeTempDir(), "/s.sock") : "127.0.0.1:0";
    FRPC_ASSERT_OK(server_->AddListener(address));
    FRPC_ASSERT_OK(server_->Start());
    auto channel = Channel::Create(server_->listen_address(0));
    FRPC_ASSERT_OK(channel.status());
    channel_ = *std::move(channel);
    stub_ = std::make_unique<StreamTestService::Stub>(channel_.get());
  }

  StreamTestServiceImpl service_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<Channel> channel_;
  std::unique_ptr<StreamTestService::Stub> stub_;
};

}  // namespace framerpc::test

#endif  // FRAMERPC_TESTS_STREAM_FIXTURE_H_

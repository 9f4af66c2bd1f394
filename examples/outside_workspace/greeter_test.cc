// The user's tests, with framerpc's testing support: a real server on port 0, the same server
// in-process (no socket), and a generated mock.
#include <memory>

#include "gmock/gmock.h"
#include "greeter.frpc_mock.h"
#include "greeter_service.h"
#include "gtest/gtest.h"
#include "rpc/in_process_channel.h"
#include "rpc/server.h"
#include "testing/test_server.h"

namespace greeter {
namespace {

TEST(GreeterTest, ServedAndCalled) {
  GreeterImpl impl;
  auto server = framerpc::testing::TestServer::Start({&impl});
  ASSERT_TRUE(server.ok()) << server.status();
  Greeter::Stub stub((*server)->channel());
  EXPECT_EQ(Shout(&stub, "outside").value(), "Hello, outside!");
  EXPECT_EQ(Shout(&stub, "").status().code(), absl::StatusCode::kInvalidArgument);

  framerpc::ClientContext context;
  auto stream = stub.HelloEach(&context);
  for (const char* name : {"a", "b"}) {
    HelloRequest request;
    request.set_name(name);
    ASSERT_TRUE(stream->Write(request));
    HelloReply reply;
    ASSERT_TRUE(stream->Read(&reply));
    EXPECT_EQ(reply.message(), std::string("Hello, ") + name);
  }
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

// The real server and channel, with frames carried through memory: no port, no file.
TEST(GreeterTest, InProcess) {
  GreeterImpl impl;
  framerpc::Server server;
  ASSERT_TRUE(server.AddService(&impl, {.run_inline = false}).ok());
  auto connector = server.in_process_connector();  // before Start: the server has no listener
  ASSERT_TRUE(server.Start().ok());
  auto channel = framerpc::NewInProcessChannel(connector);
  ASSERT_TRUE(channel.ok()) << channel.status();
  Greeter::Stub stub(channel->get());
  EXPECT_EQ(Shout(&stub, "memory").value(), "Hello, memory!");
  framerpc::ClientContext context;
  auto stream = stub.HelloEach(&context);
  HelloRequest request;
  request.set_name("pipe");
  ASSERT_TRUE(stream->Write(request));
  HelloReply reply;
  ASSERT_TRUE(stream->Read(&reply));
  EXPECT_EQ(reply.message(), "Hello, pipe");
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());

  // The same through the testing library.
  framerpc::testing::TestServerOptions options;
  options.in_process = true;
  auto test_server = framerpc::testing::TestServer::Start({&impl}, options);
  ASSERT_TRUE(test_server.ok()) << test_server.status();
  Greeter::Stub in_memory((*test_server)->channel());
  EXPECT_EQ(Shout(&in_memory, "again").value(), "Hello, again!");
}

TEST(GreeterTest, MockedClient) {
  MockGreeterStub greeter;
  EXPECT_CALL(greeter, Hello(::testing::_, ::testing::_, ::testing::_))
      .WillOnce([](framerpc::ClientContext*, const HelloRequest&, HelloReply* reply) {
        reply->set_message("Mocked");
        return absl::OkStatus();
      });
  EXPECT_EQ(Shout(&greeter, "x").value(), "Mocked!");
}

}  // namespace
}  // namespace greeter

// The user's tests, with framerpc's testing support: a real server on port 0 and a generated mock.
#include <memory>

#include "gmock/gmock.h"
#include "greeter.frpc_mock.h"
#include "greeter_service.h"
#include "gtest/gtest.h"
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

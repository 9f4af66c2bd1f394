#include "services/echo/echo_service.h"

#include "gtest/gtest.h"

namespace framerpc::echo {
namespace {

TEST(EchoServiceTest, SayReturnsTextAsIs) {
  EchoServiceImpl service;
  ServerContext context;
  SayRequest request;
  request.set_text("Hello, world");
  SayReply reply;
  ASSERT_TRUE(service.Say(&context, request, &reply).ok());
  EXPECT_EQ(reply.text(), "Hello, world");
}

TEST(EchoServiceTest, SayUppercasesWhenAsked) {
  EchoServiceImpl service;
  ServerContext context;
  SayRequest request;
  request.set_text("Hello, world 42");
  request.set_uppercase(true);
  SayReply reply;
  ASSERT_TRUE(service.Say(&context, request, &reply).ok());
  EXPECT_EQ(reply.text(), "HELLO, WORLD 42");
}

TEST(EchoServiceTest, RegistersBothMethods) {
  EchoServiceImpl service;
  ASSERT_EQ(service.methods().size(), 2u);
  EXPECT_EQ(service.methods()[0].full_name, "/framerpc.echo.EchoService/Say");
  EXPECT_EQ(service.methods()[1].full_name, "/framerpc.echo.EchoService/Bytes");
}

}  // namespace
}  // namespace framerpc::echo

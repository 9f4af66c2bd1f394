// Checks the code generated for proto/echo.proto through frpc_cc_library: the method table the
// dispatcher sees, its message types, the descriptor, and the UNIMPLEMENTED defaults.
#include <map>
#include <string>

#include "absl/status/status.h"
#include "google/protobuf/descriptor.h"
#include "gtest/gtest.h"
#include "proto/echo.frpc.h"
#include "rpc/context.h"
#include "rpc/service.h"

namespace framerpc {
namespace {

using echo::EchoService;

// method name -> {request type, response type}, as registered.
std::map<std::string, std::pair<std::string, std::string>> MethodTypes(const Service& service) {
  std::map<std::string, std::pair<std::string, std::string>> types;
  for (const MethodEntry& entry : service.methods()) {
    types[entry.full_name] = {entry.handler->NewRequest()->GetDescriptor()->full_name(),
                              entry.handler->NewResponse()->GetDescriptor()->full_name()};
  }
  return types;
}

TEST(FrpcCppPluginTest, ServiceRegistersEveryMethodWithItsTypes) {
  EchoService::Service service;
  const std::map<std::string, std::pair<std::string, std::string>> expected = {
      {"/framerpc.echo.EchoService/Say", {"framerpc.echo.SayRequest", "framerpc.echo.SayReply"}},
      {"/framerpc.echo.EchoService/Bytes",
       {"framerpc.echo.BytesRequest", "framerpc.echo.BytesReply"}},
  };
  EXPECT_EQ(MethodTypes(service), expected);
  EXPECT_EQ(service.methods().size(), 2u);
}

TEST(FrpcCppPluginTest, NamesAndDescriptorMatchTheProto) {
  EXPECT_STREQ(EchoService::kServiceName, "framerpc.echo.EchoService");
  EXPECT_STREQ(EchoService::kSayMethodName, "/framerpc.echo.EchoService/Say");
  EchoService::Service service;
  const google::protobuf::ServiceDescriptor* descriptor = service.descriptor();
  ASSERT_NE(descriptor, nullptr);
  EXPECT_EQ(descriptor->full_name(), EchoService::kServiceName);
  EXPECT_EQ(descriptor->method_count(), 2);
}

TEST(FrpcCppPluginTest, UnimplementedMethodsAnswerUnimplemented) {
  EchoService::Service service;
  for (const MethodEntry& entry : service.methods()) {
    ServerContext context;
    auto request = entry.handler->NewRequest();
    auto response = entry.handler->NewResponse();
    const absl::Status status = entry.handler->Invoke(&context, *request, response.get());
    EXPECT_EQ(status.code(), absl::StatusCode::kUnimplemented) << entry.full_name;
    EXPECT_EQ(status.message(), "method " + entry.full_name + " is not implemented");
  }
}

// An override is what the dispatcher reaches through the method table.
class UpperEcho final : public EchoService::Service {
 public:
  absl::Status Say(ServerContext* context, const echo::SayRequest& request,
                   echo::SayReply* response) override {
    response->set_text(request.text() + "!");
    return absl::OkStatus();
  }
};

TEST(FrpcCppPluginTest, OverridesAreDispatchedThroughTheMethodTable) {
  UpperEcho service;
  const MethodEntry& say = service.methods().at(0);
  ASSERT_EQ(say.full_name, EchoService::kSayMethodName);
  echo::SayRequest request;
  request.set_text("hi");
  echo::SayReply reply;
  ServerContext context;
  ASSERT_TRUE(say.handler->Invoke(&context, request, &reply).ok());
  EXPECT_EQ(reply.text(), "hi!");
}

}  // namespace
}  // namespace framerpc

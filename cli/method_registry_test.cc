#include "cli/method_registry.h"

#include <memory>
#include <string>

#include "cli/json_codec.h"
#include "cli/known_services.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "proto/echo.pb.h"

namespace framerpc::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

JsonOutputOptions Compact() {
  JsonOutputOptions options;
  options.pretty = false;
  return options;
}

class MethodRegistryTest : public ::testing::Test {
 protected:
  MethodRegistry registry_{KnownServiceFiles()};
};

TEST_F(MethodRegistryTest, KnowsTheEchoAndCommandServices) {
  ASSERT_EQ(registry_.services().size(), 2u);
  EXPECT_EQ(registry_.services()[0]->full_name(), "framerpc.echo.EchoService");
  EXPECT_EQ(registry_.services()[1]->full_name(), "framerpc.command.CommandService");
}

TEST_F(MethodRegistryTest, FindsMethodInEverySpelling) {
  for (const char* name : {"/framerpc.echo.EchoService/Say", "framerpc.echo.EchoService/Say",
                           "framerpc.echo.EchoService.Say"}) {
    SCOPED_TRACE(name);
    absl::StatusOr<const google::protobuf::MethodDescriptor*> method = registry_.FindMethod(name);
    ASSERT_TRUE(method.ok()) << method.status();
    EXPECT_EQ(MethodPath(**method), "/framerpc.echo.EchoService/Say");
    EXPECT_EQ((*method)->input_type(), echo::SayRequest::descriptor());
    EXPECT_EQ((*method)->output_type(), echo::SayReply::descriptor());
  }
}

TEST_F(MethodRegistryTest, UnknownMethodListsTheKnownOnes) {
  for (const char* name : {"/x.Y/Z", "", "/", "Say", "/framerpc.echo.EchoService/Shout"}) {
    SCOPED_TRACE(name);
    absl::StatusOr<const google::protobuf::MethodDescriptor*> method = registry_.FindMethod(name);
    ASSERT_FALSE(method.ok());
    EXPECT_EQ(method.status().code(), absl::StatusCode::kNotFound);
    EXPECT_EQ(method.status().message(),
              std::string("unknown method ") + name +
                  " (known: /framerpc.command.CommandService/Exec, "
                  "/framerpc.command.CommandService/Run, /framerpc.echo.EchoService/Bytes, "
                  "/framerpc.echo.EchoService/Say)");
  }
}

TEST_F(MethodRegistryTest, NewMessageIsTheGeneratedClass) {
  std::unique_ptr<google::protobuf::Message> message =
      registry_.NewMessage(echo::SayRequest::descriptor());
  EXPECT_NE(dynamic_cast<echo::SayRequest*>(message.get()), nullptr);
}

TEST_F(MethodRegistryTest, DescribesServicesMethodsAndMessages) {
  absl::StatusOr<std::string> service = registry_.Describe("framerpc.echo.EchoService");
  ASSERT_TRUE(service.ok()) << service.status();
  EXPECT_THAT(*service, HasSubstr("rpc Say(.framerpc.echo.SayRequest)"));

  absl::StatusOr<std::string> method = registry_.Describe("/framerpc.echo.EchoService/Bytes");
  ASSERT_TRUE(method.ok()) << method.status();
  EXPECT_THAT(*method, HasSubstr("rpc Bytes("));

  absl::StatusOr<std::string> message = registry_.Describe("framerpc.echo.SayRequest");
  ASSERT_TRUE(message.ok()) << message.status();
  EXPECT_THAT(*message, HasSubstr("bool uppercase = 2;"));

  absl::StatusOr<std::string> unknown = registry_.Describe("framerpc.echo.Nope");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(unknown.status().message()),
              StartsWith("unknown symbol framerpc.echo.Nope"));
}

TEST_F(MethodRegistryTest, JsonRoundTrip) {
  std::unique_ptr<google::protobuf::Message> request =
      registry_.NewMessage(echo::SayRequest::descriptor());
  ASSERT_TRUE(JsonToMessage(R"({"text": "hi", "uppercase": true})", request.get()).ok());
  const auto& typed = static_cast<const echo::SayRequest&>(*request);
  EXPECT_EQ(typed.text(), "hi");
  EXPECT_TRUE(typed.uppercase());

  absl::StatusOr<std::string> json = MessageToJson(*request, Compact());
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(*json, R"({"text":"hi","uppercase":true})");
}

TEST(JsonCodecTest, PrettyOutputHasNoTrailingNewline) {
  echo::SayReply reply;
  reply.set_text("x");
  absl::StatusOr<std::string> json = MessageToJson(reply, JsonOutputOptions());
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(*json, "{\n \"text\": \"x\"\n}");
}

TEST(JsonCodecTest, EmitDefaultsAndProtoFieldNames) {
  echo::BytesReply reply;
  JsonOutputOptions options = Compact();
  EXPECT_EQ(*MessageToJson(reply, options), "{}");
  options.emit_defaults = true;
  EXPECT_EQ(*MessageToJson(reply, options), R"({"size":"0"})");
}

TEST(JsonCodecTest, BlankInputIsTheEmptyMessage) {
  echo::SayRequest request;
  request.set_text("stale");
  ASSERT_TRUE(JsonToMessage(" \n", &request).ok());
  EXPECT_EQ(request.ByteSizeLong(), 0u);
}

TEST(JsonCodecTest, BadJsonIsInvalidArgument) {
  for (const char* json : {"{", "{\"text\": 5}", "{\"nope\": 1}", "[]", "hi"}) {
    SCOPED_TRACE(json);
    echo::SayRequest request;
    absl::Status status = JsonToMessage(json, &request);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(status.message()),
                StartsWith("invalid JSON for framerpc.echo.SayRequest: "));
    EXPECT_GT(status.message().size(), sizeof("invalid JSON for framerpc.echo.SayRequest: "));
  }
}

// A pool built at run time: the registry falls back to DynamicMessage for it.
TEST(MethodRegistryDynamicTest, WorksOnAnyPool) {
  google::protobuf::FileDescriptorProto file;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
      R"pb(
        name: "t.proto"
        package: "t"
        syntax: "proto3"
        message_type {
          name: "Req"
          field { name: "n" number: 1 type: TYPE_INT32 label: LABEL_OPTIONAL }
        }
        service {
          name: "S"
          method { name: "M" input_type: ".t.Req" output_type: ".t.Req" }
        }
      )pb",
      &file));
  google::protobuf::DescriptorPool pool;
  const google::protobuf::FileDescriptor* built = pool.BuildFile(file);
  ASSERT_NE(built, nullptr);
  MethodRegistry registry({built});

  absl::StatusOr<const google::protobuf::MethodDescriptor*> method = registry.FindMethod("/t.S/M");
  ASSERT_TRUE(method.ok()) << method.status();
  std::unique_ptr<google::protobuf::Message> request = registry.NewMessage((*method)->input_type());
  ASSERT_TRUE(JsonToMessage(R"({"n": 7})", request.get()).ok());
  EXPECT_EQ(*MessageToJson(*request, Compact()), R"({"n":7})");
  EXPECT_EQ(registry.FindMethod("/framerpc.echo.EchoService/Say").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace framerpc::cli

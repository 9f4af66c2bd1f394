// framerpc_cli with a service it does not have built in (cli/testdata/counter.proto), found
// through the server's reflection, through --proto and through --protoset: list, describe, and
// calls of every method kind, requests read as grpcurl reads them; and `health`.
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/health/health_service.h"
#include "services/reflection/reflection_service.h"
#include "cli/cli.h"
#include "cli/known_services.h"
#include "cli/testdata/counter.frpc.h"
#include "cli/testdata/counter_cli_fixture.h"
#include "cli/testdata/counter_service.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.pb.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "rpc/server.h"

namespace framerpc::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using clitest::Number;

std::string TempPath(const std::string& name) {
  const char* dir = ::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
}

class ReflectionCliTest : public CounterCliFixture {
 protected:
  // A server with the Counter service, health, and reflection unless `with_reflection` is false.
  void Serve(bool with_reflection = true) {
    AddServices(with_reflection);
    StartServer();
    options_.address = server_->listen_address(0);
  }
};

TEST_F(ReflectionCliTest, ListAndDescribeWhatTheServerHas) {
  Serve();
  ASSERT_EQ(Run({"list"}), 0) << err_;
  EXPECT_THAT(out_, HasSubstr("framerpc.clitest.Counter\n"
                              "  /framerpc.clitest.Counter/Double(framerpc.clitest.Number) returns "
                              "(framerpc.clitest.Number)\n"
                              "  /framerpc.clitest.Counter/CountTo(framerpc.clitest.Number) returns "
                              "(stream framerpc.clitest.Number)\n"
                              "  /framerpc.clitest.Counter/Sum(stream framerpc.clitest.Number) "
                              "returns (framerpc.clitest.Number)\n"
                              "  /framerpc.clitest.Counter/Negate(stream framerpc.clitest.Number) "
                              "returns (stream framerpc.clitest.Number)\n"));
  EXPECT_THAT(out_, HasSubstr("grpc.health.v1.Health\n"));
  ASSERT_EQ(Run({"describe", "framerpc.clitest.Number"}), 0) << err_;
  EXPECT_THAT(out_, HasSubstr("message Number {\n  int64 value = 1;\n  string note = 2;\n}"));
  EXPECT_EQ(Run({"describe", "framerpc.clitest.Nope"}), 1);
  EXPECT_THAT(err_, StartsWith("ERROR: NOT_FOUND: "));
}

TEST_F(ReflectionCliTest, EveryMethodKind) {
  Serve();
  ASSERT_EQ(Run({"call", "/framerpc.clitest.Counter/Double", R"({"value": 21})"}), 0) << err_;
  EXPECT_EQ(out_, "{\"value\":\"42\"}\n");
  ASSERT_EQ(Run({"call", "framerpc.clitest.Counter/CountTo", R"({"value": 3})"}), 0) << err_;
  EXPECT_EQ(out_, "{\"value\":\"1\"}\n{\"value\":\"2\"}\n{\"value\":\"3\"}\n");
  // Requests one per line, or one after another, from stdin or the argument.
  ASSERT_EQ(Run({"call", "/framerpc.clitest.Counter/Sum"},
                "{\"value\": 1}\n{\"value\": 2}{\"value\":3}\n  {\n \"value\": 4\n}\n"),
            0)
      << err_;
  EXPECT_EQ(out_, "{\"value\":\"10\"}\n");
  ASSERT_EQ(Run({"call", "/framerpc.clitest.Counter/Sum", "{}"}), 0) << err_;
  EXPECT_EQ(out_, "{}\n");
  ASSERT_EQ(Run({"call", "/framerpc.clitest.Counter/Negate", R"({"value":5}{"value":-6})"}), 0)
      << err_;
  EXPECT_EQ(out_, "{\"value\":\"-5\"}\n{\"value\":\"6\"}\n");
  // No requests: the stream is half-closed at once.
  ASSERT_EQ(Run({"call", "/framerpc.clitest.Counter/Negate"}, ""), 0) << err_;
  EXPECT_EQ(out_, "");
}

TEST_F(ReflectionCliTest, ABadRequestInAStreamEndsTheCallAsALocalError) {
  Serve();
  EXPECT_EQ(Run({"call", "/framerpc.clitest.Counter/Sum"}, "{\"value\": 1}\n{\"valu\": 2}\n"), 1);
  EXPECT_THAT(err_, StartsWith("ERROR: INVALID_ARGUMENT: invalid JSON for "));
  EXPECT_EQ(Run({"call", "/framerpc.clitest.Counter/Negate"}, "{\"value\": 1} 7"), 1);
  EXPECT_THAT(err_, HasSubstr("the requests must be JSON objects, one after another; byte 13"));
  EXPECT_EQ(Run({"call", "/framerpc.clitest.Counter/CountTo", "{\"value\": 1}{}"}), 1);
  EXPECT_THAT(err_, StartsWith("ERROR: INVALID_ARGUMENT: "));
}

TEST_F(ReflectionCliTest, WithoutReflectionTheServerSaysSo) {
  Serve(/*with_reflection=*/false);
  EXPECT_EQ(Run({"call", "/framerpc.clitest.Counter/Double", "{}"}), 64 + 12);
  EXPECT_THAT(err_, HasSubstr("has no reflection service; give the services' --proto files or "
                              "a --protoset"));
  EXPECT_EQ(Run({"list"}), 64 + 12);
}

TEST_F(ReflectionCliTest, ProtoFilesAndProtosetInsteadOfReflection) {
  Serve(/*with_reflection=*/false);
  options_.proto_files = {"cli/testdata/counter.proto"};
  ASSERT_EQ(Run({"call", "/framerpc.clitest.Counter/Double", R"({"value": 4})"}), 0) << err_;
  EXPECT_EQ(out_, "{\"value\":\"8\"}\n");
  ASSERT_EQ(Run({"list", "framerpc.clitest.Counter"}), 0) << err_;
  EXPECT_THAT(out_, StartsWith("framerpc.clitest.Counter\n"));

  options_.proto_files = {"cli/testdata/missing.proto"};
  EXPECT_EQ(Run({"call", "/framerpc.clitest.Counter/Double", "{}"}), 1);
  EXPECT_THAT(err_, HasSubstr("--proto cli/testdata/missing.proto: "));

  // A descriptor set, as protoc --include_imports --descriptor_set_out writes one.
  google::protobuf::FileDescriptorSet set;
  clitest::Number::descriptor()->file()->CopyTo(set.add_file());
  const std::string protoset = TempPath("counter.protoset");
  std::ofstream(protoset, std::ios::binary) << set.SerializeAsString();
  options_.proto_files = {};
  options_.protoset = protoset;
  ASSERT_EQ(Run({"call", "/framerpc.clitest.Counter/CountTo", R"({"value": 2})"}), 0) << err_;
  EXPECT_EQ(out_, "{\"value\":\"1\"}\n{\"value\":\"2\"}\n");

  std::ofstream(protoset, std::ios::binary) << "not a descriptor set";
  EXPECT_EQ(Run({"list"}), 1);
  EXPECT_THAT(err_, HasSubstr("is not a serialized FileDescriptorSet"));
}

TEST_F(ReflectionCliTest, HealthExitsZeroOnlyWhenServing) {
  Serve();
  ASSERT_EQ(Run({"health", options_.address}), 0) << err_;
  EXPECT_EQ(out_, "SERVING\n");
  ASSERT_EQ(Run({"health", options_.address, "framerpc.clitest.Counter"}), 0) << err_;
  health_.SetServingStatus("framerpc.clitest.Counter", HealthService::kNotServing);
  EXPECT_EQ(Run({"health", options_.address, "framerpc.clitest.Counter"}), 64 + 14);
  EXPECT_EQ(out_, "NOT_SERVING\n");
  EXPECT_THAT(err_, StartsWith("ERROR: UNAVAILABLE: framerpc.clitest.Counter is NOT_SERVING"));
  EXPECT_EQ(Run({"health", options_.address, "no.Such"}), 64 + 5);
  const std::string address = options_.address;
  options_.address = "";
  EXPECT_EQ(Run({"health"}), 1);
  EXPECT_THAT(err_, StartsWith("ERROR: INVALID_ARGUMENT: usage: health ADDR [SERVICE]"));
  EXPECT_EQ(Run({"health", address, "a", "b"}), 1);
  options_.address = "127.0.0.1:1";
  EXPECT_EQ(Run({"health", options_.address}), 64 + 14);
}

TEST_F(ReflectionCliTest, FormatErrorPrintsOneJsonObject) {
  Serve();
  options_.format_error = true;
  EXPECT_EQ(Run({"health", options_.address, "no.Such"}), 64 + 5);
  const nlohmann::json error = nlohmann::json::parse(err_, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(error.is_object()) << err_;
  EXPECT_EQ(error.value("code", -1), 5);
  EXPECT_EQ(error.value("name", ""), "NOT_FOUND");
  EXPECT_EQ(error.value("message", ""), "unknown service 'no.Such'");
}

}  // namespace
}  // namespace framerpc::cli

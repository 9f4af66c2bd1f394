#include "tools/frpc_cpp_generator.h"

#include <map>
#include <string>

#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace framerpc {
namespace tools {
namespace {

using google::protobuf::FileDescriptor;
using google::protobuf::FileDescriptorProto;
using ::testing::HasSubstr;
using ::testing::Not;

// Keeps every generated file in memory, by name.
class MemoryContext : public google::protobuf::compiler::GeneratorContext {
 public:
  google::protobuf::io::ZeroCopyOutputStream* Open(const std::string& filename) override {
    return new google::protobuf::io::StringOutputStream(&files[filename]);
  }
  std::map<std::string, std::string> files;
};

class FrpcCppGeneratorTest : public ::testing::Test {
 protected:
  // Adds a file, given as a text-format FileDescriptorProto, to the pool.
  const FileDescriptor* Build(const std::string& text) {
    FileDescriptorProto proto;
    EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &proto)) << text;
    const FileDescriptor* file = pool_.BuildFile(proto);
    EXPECT_NE(file, nullptr) << text;
    return file;
  }

  // Runs the generator; returns its error, empty on success.
  std::string Generate(const FileDescriptor* file, const std::string& parameter = "") {
    std::string error;
    const bool ok = FrpcCppGenerator().Generate(file, parameter, &context_, &error);
    EXPECT_EQ(ok, error.empty()) << error;
    return error;
  }

  const std::string& Output(const std::string& name) { return context_.files[name]; }

  // a/b.proto: service a.b.S { rpc M(a.b.Req) returns (c.d.Outer.Inner) }, across two files.
  const FileDescriptor* BuildRequestAndNestedReply() {
    Build(R"pb(name: "c/d.proto" package: "c.d"
               message_type { name: "Outer" nested_type { name: "Inner" } })pb");
    return Build(R"pb(name: "a/b.proto" package: "a.b" dependency: "c/d.proto"
               message_type { name: "Req" }
               service {
                 name: "S"
                 method { name: "M" input_type: ".a.b.Req" output_type: ".c.d.Outer.Inner" }
               })pb");
  }

  // k.proto: service k.S with one method of each kind, k.Req in and k.Resp out.
  const FileDescriptor* BuildEveryKind() {
    return Build(R"pb(name: "k.proto" package: "k"
               message_type { name: "Req" }
               message_type { name: "Resp" }
               service {
                 name: "S"
                 method { name: "One" input_type: ".k.Req" output_type: ".k.Resp" }
                 method {
                   name: "Down" input_type: ".k.Req" output_type: ".k.Resp"
                   server_streaming: true
                 }
                 method {
                   name: "Up" input_type: ".k.Req" output_type: ".k.Resp"
                   client_streaming: true
                 }
                 method {
                   name: "Both" input_type: ".k.Req" output_type: ".k.Resp"
                   client_streaming: true server_streaming: true
                 }
               })pb");
  }

 private:
  google::protobuf::DescriptorPool pool_;
  MemoryContext context_;
};

TEST_F(FrpcCppGeneratorTest, HeaderDeclaresServiceAndStubWithQualifiedTypes) {
  ASSERT_EQ(Generate(BuildRequestAndNestedReply()), "");
  const std::string& h = Output("a/b.frpc.h");
  EXPECT_THAT(h, HasSubstr("#ifndef A_B_FRPC_H_\n"));
  EXPECT_THAT(h, HasSubstr("#include \"a/b.pb.h\"\n#include \"c/d.pb.h\"\n"));
  EXPECT_THAT(h, HasSubstr("namespace a::b {\n\nclass S final {\n"));
  EXPECT_THAT(h, HasSubstr("static constexpr char kServiceName[] = \"a.b.S\";"));
  EXPECT_THAT(h, HasSubstr("static constexpr char kMMethodName[] = \"/a.b.S/M\";"));
  EXPECT_THAT(h, HasSubstr("class Service : public ::framerpc::Service {"));
  EXPECT_THAT(h, HasSubstr("virtual ::absl::Status M(\n"
                           "        ::framerpc::ServerContext* context,"));
  EXPECT_THAT(h, HasSubstr("::c::d::Outer_Inner* response"));
  EXPECT_THAT(h, HasSubstr("explicit Stub(::framerpc::Channel* channel);"));
  EXPECT_THAT(h, HasSubstr("void MAsync(\n        ::framerpc::ClientContext* context,"));
  EXPECT_THAT(h, HasSubstr("must outlive"));  // The contract comment.
}

TEST_F(FrpcCppGeneratorTest, SourceRegistersMethodsAndDefaultsToUnimplemented) {
  ASSERT_EQ(Generate(BuildRequestAndNestedReply()), "");
  const std::string& cc = Output("a/b.frpc.cc");
  EXPECT_THAT(cc, HasSubstr("#include \"a/b.frpc.h\"\n"));
  EXPECT_THAT(cc, HasSubstr("UnaryMethodHandler<\n"
                            "          Service, ::a::b::Req, ::c::d::Outer_Inner>>("
                            "this, &Service::M)"));
  EXPECT_THAT(cc, HasSubstr("::a::b::Req::descriptor()->file()->FindServiceByName(\"S\")"));
  EXPECT_THAT(cc, HasSubstr("UnimplementedError(\"method /a.b.S/M is not implemented\")"));
  EXPECT_THAT(cc, HasSubstr("channel_->Call(kMMethodName, context, request, response)"));
  EXPECT_THAT(cc, HasSubstr("channel_->StartCall(kMMethodName, context, request, response,\n"
                            "                      std::move(done))"));
}

TEST_F(FrpcCppGeneratorTest, FileWithoutPackageOrMessagesUsesGlobalNamespaceAndPool) {
  Build(R"pb(name: "m.proto" message_type { name: "Msg" })pb");
  const FileDescriptor* file = Build(R"pb(name: "t.proto" dependency: "m.proto"
      service { name: "T" method { name: "X" input_type: ".Msg" output_type: ".Msg" } })pb");
  ASSERT_EQ(Generate(file), "");
  EXPECT_THAT(Output("t.frpc.h"), Not(HasSubstr("namespace")));
  EXPECT_THAT(Output("t.frpc.h"), HasSubstr("#include \"t.pb.h\"\n#include \"m.pb.h\"\n"));
  EXPECT_THAT(Output("t.frpc.cc"), HasSubstr("generated_pool()->FindServiceByName(kServiceName)"));
}

TEST_F(FrpcCppGeneratorTest, FileWithoutServicesStillGetsEveryFile) {
  ASSERT_EQ(Generate(Build(R"pb(name: "e.proto" package: "e")pb")), "");
  EXPECT_THAT(Output("e.frpc.h"), HasSubstr("#endif  // E_FRPC_H_"));
  EXPECT_THAT(Output("e.frpc.cc"), HasSubstr("#include \"e.frpc.h\""));
  EXPECT_THAT(Output("e.frpc_mock.h"), HasSubstr("#endif  // E_FRPC_MOCK_H_"));
}

TEST_F(FrpcCppGeneratorTest, StubImplementsAnInterfaceThatTheMockImplementsToo) {
  ASSERT_EQ(Generate(BuildEveryKind()), "");
  const std::string& h = Output("k.frpc.h");
  EXPECT_THAT(h, HasSubstr("  class StubInterface {\n"
                           "   public:\n"
                           "    virtual ~StubInterface() = default;\n"));
  EXPECT_THAT(h, HasSubstr("  class Stub final : public StubInterface {\n"));
  const std::string& mock = Output("k.frpc_mock.h");
  EXPECT_THAT(mock, HasSubstr("#include \"k.frpc.h\"\n#include \"gmock/gmock.h\"\n"));
  EXPECT_THAT(mock, HasSubstr("class MockSStub : public S::StubInterface {\n"));
  EXPECT_THAT(mock, HasSubstr("  MOCK_METHOD(::absl::Status, One, (::framerpc::ClientContext* "
                              "context, const ::k::Req& request, ::k::Resp* response),\n"
                              "              (override));\n"));
  EXPECT_THAT(mock, HasSubstr("  MOCK_METHOD(void, OneAsync, ("));
  // A stream type with a comma in it is parenthesized.
  EXPECT_THAT(mock, HasSubstr("  MOCK_METHOD((std::unique_ptr<::framerpc::ClientReaderWriter<"
                              "::k::Req, ::k::Resp>>), Both, (::framerpc::ClientContext* "
                              "context),\n"));
}

TEST_F(FrpcCppGeneratorTest, HeaderIncludesTheStreamTypesAndStatesTheStreamingContract) {
  ASSERT_EQ(Generate(BuildEveryKind()), "");
  const std::string& h = Output("k.frpc.h");
  EXPECT_THAT(h, HasSubstr("#include <memory>\n"));
  EXPECT_THAT(h, HasSubstr("#include \"rpc/service.h\"\n#include \"rpc/stream.h\"\n"));
  EXPECT_THAT(h, HasSubstr("run on a thread of their own"));
  EXPECT_THAT(h, HasSubstr("destroying it while its call has not\n// finished cancels the call"));
}

TEST_F(FrpcCppGeneratorTest, ServerStreamingMethodTakesAWriter) {
  ASSERT_EQ(Generate(BuildEveryKind()), "");
  EXPECT_THAT(Output("k.frpc.h"),
              HasSubstr("    virtual ::absl::Status Down(\n"
                        "        ::framerpc::ServerContext* context,\n"
                        "        const ::k::Req& request,\n"
                        "        ::framerpc::ServerWriter<::k::Resp>* writer);\n"));
  EXPECT_THAT(Output("k.frpc.h"),
              HasSubstr("    std::unique_ptr<::framerpc::ClientReader<::k::Resp>> Down(\n"
                        "        ::framerpc::ClientContext* context,\n"
                        "        const ::k::Req& request) override;\n"));
  EXPECT_THAT(Output("k.frpc.h"),
              HasSubstr("    virtual std::unique_ptr<::framerpc::ClientReader<::k::Resp>> Down(\n"
                        "        ::framerpc::ClientContext* context,\n"
                        "        const ::k::Req& request) = 0;\n"));
  const std::string& cc = Output("k.frpc.cc");
  EXPECT_THAT(cc, HasSubstr("std::make_unique<::framerpc::ServerStreamingMethodHandler<\n"
                            "          Service, ::k::Req, ::k::Resp>>(this, &Service::Down));"));
  EXPECT_THAT(cc, HasSubstr("::absl::Status S::Service::Down(\n"
                            "    ::framerpc::ServerContext* /*context*/,\n"
                            "    const ::k::Req& /*request*/,\n"
                            "    ::framerpc::ServerWriter<::k::Resp>* /*writer*/) {\n"
                            "  return ::absl::UnimplementedError(\"method /k.S/Down is not "
                            "implemented\");\n"));
  EXPECT_THAT(cc, HasSubstr(
      "std::unique_ptr<::framerpc::ClientReader<::k::Resp>> S::Stub::Down(\n"
      "    ::framerpc::ClientContext* context,\n"
      "    const ::k::Req& request) {\n"
      "  std::unique_ptr<::framerpc::ClientStreamBase> stream = channel_->StartStream(\n"
      "      kDownMethodName, ::framerpc::MethodKind::kServerStreaming, context, nullptr);\n"
      "  // A failed write or half-close is reported by Finish().\n"
      "  stream->Write(request, context->request_attachment());\n"
      "  stream->WritesDone();\n"
      "  return std::make_unique<::framerpc::ClientReader<::k::Resp>>(std::move(stream));\n"
      "}\n"));
}

TEST_F(FrpcCppGeneratorTest, ClientStreamingMethodTakesAReader) {
  ASSERT_EQ(Generate(BuildEveryKind()), "");
  EXPECT_THAT(Output("k.frpc.h"), HasSubstr("    virtual ::absl::Status Up(\n"
                                            "        ::framerpc::ServerContext* context,\n"
                                            "        ::framerpc::ServerReader<::k::Req>* reader,\n"
                                            "        ::k::Resp* response);\n"));
  EXPECT_THAT(Output("k.frpc.h"),
              HasSubstr("    std::unique_ptr<::framerpc::ClientWriter<::k::Req>> Up(\n"
                        "        ::framerpc::ClientContext* context,\n"
                        "        ::k::Resp* response) override;\n"));
  const std::string& cc = Output("k.frpc.cc");
  EXPECT_THAT(cc, HasSubstr("std::make_unique<::framerpc::ClientStreamingMethodHandler<\n"
                            "          Service, ::k::Req, ::k::Resp>>(this, &Service::Up));"));
  EXPECT_THAT(cc, HasSubstr("    ::framerpc::ServerReader<::k::Req>* /*reader*/,\n"
                            "    ::k::Resp* /*response*/) {\n"
                            "  return ::absl::UnimplementedError(\"method /k.S/Up is not "
                            "implemented\");\n"));
  EXPECT_THAT(cc, HasSubstr(
      "std::unique_ptr<::framerpc::ClientWriter<::k::Req>> S::Stub::Up(\n"
      "    ::framerpc::ClientContext* context,\n"
      "    ::k::Resp* response) {\n"
      "  return std::make_unique<::framerpc::ClientWriter<::k::Req>>(channel_->StartStream(\n"
      "      kUpMethodName, ::framerpc::MethodKind::kClientStreaming, context, response));\n"
      "}\n"));
}

TEST_F(FrpcCppGeneratorTest, BidiStreamingMethodTakesAReaderWriter) {
  ASSERT_EQ(Generate(BuildEveryKind()), "");
  EXPECT_THAT(Output("k.frpc.h"),
              HasSubstr("    virtual ::absl::Status Both(\n"
                        "        ::framerpc::ServerContext* context,\n"
                        "        ::framerpc::ServerReaderWriter<::k::Resp, ::k::Req>* stream);\n"));
  EXPECT_THAT(Output("k.frpc.h"),
              HasSubstr("    std::unique_ptr<::framerpc::ClientReaderWriter<::k::Req, ::k::Resp>> "
                        "Both(\n"
                        "        ::framerpc::ClientContext* context) override;\n"));
  const std::string& cc = Output("k.frpc.cc");
  EXPECT_THAT(cc, HasSubstr("std::make_unique<::framerpc::BidiStreamingMethodHandler<\n"
                            "          Service, ::k::Req, ::k::Resp>>(this, &Service::Both));"));
  EXPECT_THAT(cc, HasSubstr("    ::framerpc::ServerReaderWriter<::k::Resp, ::k::Req>* "
                            "/*stream*/) {\n"
                            "  return ::absl::UnimplementedError(\"method /k.S/Both is not "
                            "implemented\");\n"));
  EXPECT_THAT(cc, HasSubstr(
      "std::unique_ptr<::framerpc::ClientReaderWriter<::k::Req, ::k::Resp>> S::Stub::Both(\n"
      "    ::framerpc::ClientContext* context) {\n"
      "  return std::make_unique<::framerpc::ClientReaderWriter<::k::Req, ::k::Resp>>("
      "channel_->StartStream(\n"
      "      kBothMethodName, ::framerpc::MethodKind::kBidiStreaming, context, nullptr));\n"
      "}\n"));
}

TEST_F(FrpcCppGeneratorTest, StreamingMethodsHaveNoAsyncStubAndUnaryOnesKeepTheirs) {
  ASSERT_EQ(Generate(BuildEveryKind()), "");
  const std::string& h = Output("k.frpc.h");
  EXPECT_THAT(h, HasSubstr("void OneAsync("));
  for (const char* name : {"DownAsync", "UpAsync", "BothAsync"}) {
    EXPECT_THAT(h, Not(HasSubstr(name)));
    EXPECT_THAT(Output("k.frpc.cc"), Not(HasSubstr(name)));
  }
  EXPECT_THAT(Output("k.frpc.cc"), HasSubstr("::framerpc::UnaryMethodHandler<\n"
                                             "          Service, ::k::Req, ::k::Resp>>("
                                             "this, &Service::One));"));
}

TEST_F(FrpcCppGeneratorTest, RejectsLiteRuntimeClashingNamesAndParameters) {
  const FileDescriptor* lite =
      Build(R"pb(name: "l.proto" options { optimize_for: LITE_RUNTIME })pb");
  EXPECT_THAT(Generate(lite), HasSubstr("LITE_RUNTIME is not supported"));
  const FileDescriptor* clash = Build(R"pb(name: "c.proto" package: "p"
      message_type { name: "Req" }
      service { name: "S" method { name: "Stub" input_type: ".p.Req" output_type: ".p.Req" } })pb");
  EXPECT_EQ(Generate(clash), "method name clashes with generated code: p.S/Stub");
  EXPECT_THAT(Generate(Build(R"pb(name: "x.proto")pb"), "foo=bar"), HasSubstr("no parameters"));
}

}  // namespace
}  // namespace tools
}  // namespace framerpc

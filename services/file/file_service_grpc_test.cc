// The file service through the gRPC adapter, from a real gRPC client (the generic stub): gRPC has
// no attachments, so download and upload data travel in the messages' `data` fields.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "adapters/grpc/grpc_adapter.h"
#include "gtest/gtest.h"
#include "rpc/dispatcher.h"
#include "services/file/file_server_fixture.h"
#include "services/file/file_service.h"
#include "services/file/sha256.h"
#include "services/file/test_tree.h"


namespace framerpc::file {
namespace {

constexpr size_t kChunk = kMinChunkBytes;

// One streaming call over the generic stub, each operation waited for.
class GrpcStream {
 public:
  GrpcStream(grpc::GenericStub* stub, const std::string& method) {
    context_.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    call_ = stub->PrepareCall(&context_, method, &cq_);
    call_->StartCall(&tag_);
    Await();
  }
  ~GrpcStream() {
    cq_.Shutdown();
    void* got;
    bool ok;
    while (cq_.Next(&got, &ok)) {
    }
  }

  bool Write(const google::protobuf::MessageLite& message) {
    const std::string bytes = message.SerializeAsString();
    grpc::Slice slice(bytes);
    call_->Write(grpc::ByteBuffer(&slice, 1), &tag_);
    return Await();
  }
  bool WritesDone() {
    call_->WritesDone(&tag_);
    return Await();
  }
  bool Read(google::protobuf::MessageLite* message) {
    grpc::ByteBuffer buffer;
    call_->Read(&buffer, &tag_);
    if (!Await()) return false;
    std::vector<grpc::Slice> slices;
    std::string bytes;
    if (!buffer.Dump(&slices).ok()) return false;
    for (const grpc::Slice& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
    return message->ParseFromString(bytes);
  }
  grpc::Status Finish() {
    grpc::Status status;
    call_->Finish(&status, &tag_);
    Await();
    return status;
  }

 private:
  bool Await() {
    void* got = nullptr;
    bool ok = false;
    EXPECT_TRUE(cq_.Next(&got, &ok));
    return ok;
  }

  grpc::ClientContext context_;
  grpc::CompletionQueue cq_;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call_;
  int tag_ = 0;
};

class FileServiceGrpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FileServiceOptions options;
    options.root.writable = true;
    options.chunk_bytes = kChunk;
    auto service = FileServiceImpl::Create(tree_.root(), options);
    ASSERT_TRUE(service.ok()) << service.status();
    service_ = *std::move(service);
    ASSERT_TRUE(dispatcher_.AddService(service_.get(), ServiceOptions{.run_inline = false}).ok());
    adapter_ = std::make_unique<GrpcAdapter>(&dispatcher_);
    ASSERT_TRUE(adapter_->Start().ok());
    stub_ = std::make_unique<grpc::GenericStub>(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", adapter_->listen_port()), grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    stub_.reset();
    adapter_->Shutdown(absl::Seconds(5));
    dispatcher_.StopWorkers();
  }

  TestTree tree_;
  std::unique_ptr<FileServiceImpl> service_;
  Dispatcher dispatcher_{FrameLimits{}, 2};
  std::unique_ptr<GrpcAdapter> adapter_;
  std::unique_ptr<grpc::GenericStub> stub_;
};

TEST_F(FileServiceGrpcTest, DownloadCarriesTheDataInMessages) {
  const std::string content = TestContent(2 * kChunk + 7);
  TestTree::WriteFile(tree_.InRoot("f.bin"), content);
  GrpcStream stream(stub_.get(), "/framerpc.file.FileService/Download");
  DownloadRequest request;
  request.set_path("f.bin");
  ASSERT_TRUE(stream.Write(request));
  ASSERT_TRUE(stream.WritesDone());
  DownloadResponse message;
  ASSERT_TRUE(stream.Read(&message) && message.has_header());
  EXPECT_EQ(message.header().length(), content.size());
  std::string data;
  int data_messages = 0;
  while (stream.Read(&message) && !message.has_trailer()) {
    data += message.data();
    ++data_messages;
  }
  ASSERT_TRUE(message.has_trailer());
  EXPECT_EQ(data_messages, 3);
  EXPECT_TRUE(data == content);
  EXPECT_EQ(message.trailer().sha256(), Sha256::Of(content));
  EXPECT_FALSE(stream.Read(&message));
  EXPECT_TRUE(stream.Finish().ok());
}

TEST_F(FileServiceGrpcTest, UploadTakesTheDataFromMessages) {
  const std::string content = TestContent(kChunk + 3, 2);
  GrpcStream stream(stub_.get(), "/framerpc.file.FileService/Upload");
  UploadRequest message;
  message.mutable_header()->set_path("up.bin");
  message.mutable_header()->set_size(content.size());
  message.set_data(content.substr(0, 10));  // the header message may carry data too
  ASSERT_TRUE(stream.Write(message));
  message.Clear();
  message.set_data(content.substr(10));
  ASSERT_TRUE(stream.Write(message));
  message.Clear();
  message.set_sha256(Sha256::Of(content));
  ASSERT_TRUE(stream.Write(message));
  ASSERT_TRUE(stream.WritesDone());
  UploadResponse response;
  ASSERT_TRUE(stream.Read(&response));
  EXPECT_EQ(response.size(), content.size());
  EXPECT_EQ(response.sha256(), Sha256::Of(content));
  EXPECT_TRUE(stream.Finish().ok());
  EXPECT_TRUE(TestTree::ReadFile(tree_.InRoot("up.bin")) == content);
}

}  // namespace
}  // namespace framerpc::file

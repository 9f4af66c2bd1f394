// The file service through the gRPC adapter, from a real gRPC client (the generic stub): gRPC has
// no attachments, so download and upload data travel in the messages' `data` fields. The checksum
// choice passes through: XXH3-128 asked for over gRPC is what comes back, and a wrong XXH3-128
// digest is DATA_LOSS as on the framed transport.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "adapters/grpc/grpc_adapter.h"
#include "adapters/grpc/grpc_test_util.h"
#include "gtest/gtest.h"
#include "rpc/dispatcher.h"
#include "services/file/file_server_fixture.h"
#include "services/file/file_service.h"
#include "services/file/sha256.h"
#include "services/file/test_tree.h"
#include "services/file/xxh128.h"

namespace framerpc::file {
namespace {

constexpr size_t kChunk = kMinChunkBytes;

// A context for one call, bounded so that a broken call fails the test instead of hanging it.
std::unique_ptr<grpc::ClientContext> BoundedContext() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  return context;
}

class FileServiceGrpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FileServiceOptions options;
    options.root.writable = true;
    options.write_access = auth::AccessPolicy::Open();  // a test server on loopback
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
  const auto context = BoundedContext();
  grpc_test::BlockingStream stream(stub_.get(), context.get(),
                                   "/framerpc.file.FileService/Download");
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
  const auto context = BoundedContext();
  grpc_test::BlockingStream stream(stub_.get(), context.get(), "/framerpc.file.FileService/Upload");
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

TEST_F(FileServiceGrpcTest, Xxh3DownloadAndUploadPassThrough) {
  const std::string content = TestContent(2 * kChunk + 9, 3);
  TestTree::WriteFile(tree_.InRoot("f.bin"), content);
  {
    const auto context = BoundedContext();
    grpc_test::BlockingStream stream(stub_.get(), context.get(),
                                     "/framerpc.file.FileService/Download");
    DownloadRequest request;
    request.set_path("f.bin");
    request.set_checksum(CHECKSUM_XXH3_128);
    ASSERT_TRUE(stream.Write(request));
    ASSERT_TRUE(stream.WritesDone());
    DownloadResponse message;
    ASSERT_TRUE(stream.Read(&message) && message.has_header());
    EXPECT_EQ(message.header().checksum(), CHECKSUM_XXH3_128);
    std::string data;
    while (stream.Read(&message) && !message.has_trailer()) data += message.data();
    ASSERT_TRUE(message.has_trailer());
    EXPECT_TRUE(data == content);
    EXPECT_EQ(message.trailer().checksum().algorithm(), CHECKSUM_XXH3_128);
    EXPECT_EQ(message.trailer().checksum().digest(), Xxh128::Of(content));
    EXPECT_TRUE(message.trailer().sha256().empty());
    EXPECT_TRUE(stream.Finish().ok());
  }
  for (const bool wrong : {false, true}) {
    SCOPED_TRACE(wrong);
    const auto context = BoundedContext();
    grpc_test::BlockingStream stream(stub_.get(), context.get(),
                                     "/framerpc.file.FileService/Upload");
    UploadRequest message;
    message.mutable_header()->set_path("up.bin");
    message.mutable_header()->set_size(content.size());
    message.mutable_header()->set_overwrite(true);
    message.mutable_header()->set_checksum(CHECKSUM_XXH3_128);
    ASSERT_TRUE(stream.Write(message));
    message.Clear();
    message.set_data(content);
    ASSERT_TRUE(stream.Write(message));
    message.Clear();
    message.set_digest(Xxh128::Of(wrong ? content + "x" : content));
    ASSERT_TRUE(stream.Write(message));
    ASSERT_TRUE(stream.WritesDone());
    UploadResponse response;
    if (wrong) {
      EXPECT_FALSE(stream.Read(&response));
      const grpc::Status status = stream.Finish();
      EXPECT_EQ(status.error_code(), grpc::StatusCode::DATA_LOSS);
      EXPECT_NE(status.error_message().find("has XXH3-128 " + DigestToHex(Xxh128::Of(content))),
                std::string::npos)
          << status.error_message();
      continue;
    }
    ASSERT_TRUE(stream.Read(&response));
    EXPECT_EQ(response.checksum().algorithm(), CHECKSUM_XXH3_128);
    EXPECT_EQ(response.checksum().digest(), Xxh128::Of(content));
    EXPECT_TRUE(stream.Finish().ok());
    EXPECT_TRUE(TestTree::ReadFile(tree_.InRoot("up.bin")) == content);
  }
}

// A gRPC client that starts a download and never reads it: gRPC's flow control stops the
// handler's writes, the adapter's stall timeout cancels the call, and the transfer slot is freed
// (before, it was held until the client went away or its deadline passed).
TEST_F(FileServiceGrpcTest, ADownloadNobodyReadsGivesItsSlotBackAfterTheStallTimeout) {
  adapter_->Shutdown();
  GrpcAdapterOptions options;
  options.stream_stall_timeout = absl::Milliseconds(500);
  adapter_ = std::make_unique<GrpcAdapter>(&dispatcher_, options);
  ASSERT_TRUE(adapter_->Start().ok());
  stub_ = std::make_unique<grpc::GenericStub>(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", adapter_->listen_port()), grpc::InsecureChannelCredentials()));
  ASSERT_TRUE(MakeSparseFile(tree_.InRoot("big"), uint64_t{256} << 20, 0, "x").ok());
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  grpc_test::BlockingStream stream(stub_.get(), context.get(),
                                   "/framerpc.file.FileService/Download");
  DownloadRequest request;
  request.set_path("big");
  ASSERT_TRUE(stream.Write(request));
  ASSERT_TRUE(stream.WritesDone());
  TransferTracker* tracker = service_->tracker();
  // Its writes stop at gRPC's window, and the stall timeout frees the slot: well within 30 s,
  // and with the client's deadline a minute away.
  ASSERT_TRUE(tracker->WaitFor(
      [](const TransferCounters& c) {
        return c.bytes_sent > 0 && c.chunk_writes_started > c.chunk_writes_done;
      },
      absl::Now() + absl::Seconds(30)));
  ASSERT_TRUE(tracker->WaitFor([](const TransferCounters& c) { return c.active == 0; },
                               absl::Now() + absl::Seconds(30)))
      << "the download nobody reads still holds its slot";
  DownloadResponse message;
  while (stream.Read(&message)) {
  }
  EXPECT_EQ(stream.Finish().error_code(), grpc::StatusCode::CANCELLED);
}

}  // namespace
}  // namespace framerpc::file

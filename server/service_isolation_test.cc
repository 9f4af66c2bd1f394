// A command service at its cap cannot starve the rest of the server. The attack that worked:
// four Run calls of `sleep 15` took all four shared workers, and then file Stat and health checks,
// framed and gRPC, and a fifth Run under the cap of 8, all got DEADLINE_EXCEEDED. Here the
// server is assembled as framerpc_server assembles it (AddCommandService), with one shared
// worker, so that a single blocking Run on it would be enough to show the old failure.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "adapters/grpc/grpc_adapter.h"
#include "adapters/grpc/same_port.h"
#include "adapters/grpc/grpc_test_util.h"
#include "services/health/health.frpc.h"
#include "services/health/health_service.h"
#include "gtest/gtest.h"
#include "rpc/channel.h"
#include "rpc/server.h"
#include "server/command_setup.h"
#include "services/command/command.frpc.h"
#include "services/command/command_service.h"
#include "services/file/file.frpc.h"
#include "services/file/file_service.h"

namespace framerpc::server {
namespace {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

constexpr int kCommandCap = 2;

class ServiceIsolationTest : public ::testing::Test {
 protected:
  struct Sleeper {
    std::string started;  // FIFO paths
    std::string release;
    ClientContext context;
    command::RunRequest request;
    command::RunResponse response;
    absl::Status status;
    Notification done;
  };

  void SetUp() override {
    char dir[] = "/tmp/frpc-iso-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    root_ = dir;
    char fifos[] = "/tmp/frpc-iso-fifos-XXXXXX";
    ASSERT_NE(::mkdtemp(fifos), nullptr);
    fifo_dir_ = fifos;
    command::CommandServiceConfig config;
    config.allowed_programs = {"/bin/sh"};
    config.max_concurrent = kCommandCap;
    config.access = auth::AccessPolicy::Open();  // access is not what this test is about
    command_ = command::CommandServiceImpl::Create(std::move(config)).value();
    files_ = file::FileServiceImpl::Create(root_, file::FileServiceOptions()).value();

    ServerOptions options;
    options.worker_threads = 1;
    server_ = std::make_unique<Server>(options);
    ASSERT_TRUE(server_->AddService(&health_, ServiceOptions{.run_inline = false}).ok());
    ASSERT_TRUE(server_->AddService(files_.get(), ServiceOptions{.run_inline = false}).ok());
    ASSERT_TRUE(AddCommandService(server_.get(), command_.get()).ok());
    ASSERT_TRUE(server_->AddListener("127.0.0.1:0").ok());
    GrpcAdapterOptions grpc_options;
    grpc_options.listen_address = "";
    adapter_ = std::make_unique<GrpcAdapter>(server_->dispatcher(), grpc_options);
    ASSERT_TRUE(adapter_->Start().ok());
    ASSERT_TRUE(ServeGrpcOnSamePort(server_.get(), adapter_.get()).ok());
    ASSERT_TRUE(server_->Start().ok());
    health_.SetServingForAll(*server_->dispatcher());
    channel_ = Channel::Create(server_->listen_address(0)).value();
    grpc_stub_ = std::make_unique<grpc::GenericStub>(
        grpc::CreateChannel(server_->listen_address(0), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    for (auto& sleeper : sleepers_) {
      if (!Release(*sleeper)) sleeper->context.TryCancel();  // it never started
    }
    for (auto& sleeper : sleepers_) sleeper->done.WaitForNotification();
    for (auto& sleeper : sleepers_) {
      ::unlink(sleeper->started.c_str());
      ::unlink(sleeper->release.c_str());
    }
    grpc_stub_.reset();
    channel_.reset();
    adapter_->Shutdown(absl::Seconds(5));
    server_->Shutdown(absl::Seconds(5));
    ::rmdir(root_.c_str());
    ::rmdir(fifo_dir_.c_str());
  }

  // Starts a Run of a command that holds its slot until Release(): it says it has started on
  // one FIFO, then waits for a line on another. Returns once the command runs.
  Sleeper* StartSleeper() {
    auto sleeper = std::make_unique<Sleeper>();
    Sleeper* s = sleeper.get();
    const int n = static_cast<int>(sleepers_.size());
    s->started = absl::StrCat(fifo_dir_, "/started-", n);
    s->release = absl::StrCat(fifo_dir_, "/release-", n);
    EXPECT_EQ(::mkfifo(s->started.c_str(), 0600), 0);
    EXPECT_EQ(::mkfifo(s->release.c_str(), 0600), 0);
    for (const char* arg : {"/bin/sh", "-c", "echo started > \"$1\"; read line < \"$2\"", "sh"}) {
      s->request.mutable_command()->add_argv(arg);
    }
    s->request.mutable_command()->add_argv(s->started);
    s->request.mutable_command()->add_argv(s->release);
    command::CommandService::Stub stub(channel_.get());
    stub.RunAsync(&s->context, s->request, &s->response, [s](absl::Status status) {
      s->status = std::move(status);
      s->done.Notify();
    });
    sleepers_.push_back(std::move(sleeper));
    // Waits until the command writes to the FIFO: it runs, and holds its slot. (A FIFO that no
    // writer has opened yet does not poll as hung up.) Bounded, for a command that never starts.
    const int fd = ::open(s->started.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    EXPECT_GE(fd, 0);
    pollfd pfd{fd, POLLIN, 0};
    EXPECT_EQ(::poll(&pfd, 1, 30'000), 1) << "the command did not start";
    ::close(fd);
    return s;
  }

  // Lets a sleeper's command exit; false if it is not waiting (it never started).
  static bool Release(Sleeper& s) {
    const int fd = ::open(s.release.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return false;  // ENXIO: no reader
    const bool written = ::write(fd, "go\n", 3) == 3;
    ::close(fd);
    return written;
  }

  // A deadline that only a starved call would reach.
  static constexpr absl::Duration kDeadline = absl::Seconds(10);

  absl::Status FramedHealth() {
    grpc::health::v1::Health::Stub stub(channel_.get());
    ClientContext context;
    context.set_timeout(kDeadline);
    HealthCheckResponse response;
    absl::Status status = stub.Check(&context, HealthCheckRequest(), &response);
    if (status.ok() && response.status() != HealthCheckResponse::SERVING) {
      return absl::InternalError("not SERVING");
    }
    return status;
  }

  absl::Status FramedStat() {
    file::FileService::Stub stub(channel_.get());
    ClientContext context;
    context.set_timeout(kDeadline);
    file::StatRequest request;
    request.set_path(".");
    file::StatResponse response;
    return stub.Stat(&context, request, &response);
  }

  static command::RunRequest QuickRun() {
    command::RunRequest request;
    request.mutable_command()->add_argv("/bin/sh");
    request.mutable_command()->add_argv("-c");
    request.mutable_command()->add_argv("exit 0");
    return request;
  }

  absl::Status FramedRun() {
    command::CommandService::Stub stub(channel_.get());
    ClientContext context;
    context.set_timeout(kDeadline);
    command::RunRequest request = QuickRun();
    command::RunResponse response;
    return stub.Run(&context, request, &response);
  }

  grpc::Status GrpcCall(const std::string& method, const std::string& request) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    std::string response;
    return grpc_test::UnaryCall(grpc_stub_.get(), &context, method, request, &response);
  }


  std::string root_;
  std::string fifo_dir_;
  HealthService health_;
  std::unique_ptr<command::CommandServiceImpl> command_;
  std::unique_ptr<file::FileServiceImpl> files_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<GrpcAdapter> adapter_;
  std::unique_ptr<Channel> channel_;
  std::unique_ptr<grpc::GenericStub> grpc_stub_;
  std::vector<std::unique_ptr<Sleeper>> sleepers_;
};

TEST_F(ServiceIsolationTest, OtherServicesAnswerWhileCommandsHoldEverySlot) {
  for (int i = 0; i < kCommandCap; ++i) StartSleeper();
  ASSERT_EQ(command_->runner().running(), kCommandCap);

  EXPECT_TRUE(FramedHealth().ok()) << FramedHealth();
  EXPECT_TRUE(FramedStat().ok()) << FramedStat();
  file::StatRequest stat;
  stat.set_path(".");
  grpc::Status grpc_stat = GrpcCall("/framerpc.file.FileService/Stat", stat.SerializeAsString());
  EXPECT_TRUE(grpc_stat.ok()) << grpc_stat.error_message();
  grpc::Status grpc_health =
      GrpcCall("/grpc.health.v1.Health/Check", HealthCheckRequest().SerializeAsString());
  EXPECT_TRUE(grpc_health.ok()) << grpc_health.error_message();
}

TEST_F(ServiceIsolationTest, ACallOverTheCapIsRefusedAtOnceNotLeftToItsDeadline) {
  std::vector<Sleeper*> running;
  for (int i = 0; i < kCommandCap; ++i) running.push_back(StartSleeper());
  ASSERT_EQ(command_->runner().running(), kCommandCap);

  absl::Status framed = FramedRun();
  EXPECT_EQ(framed.code(), absl::StatusCode::kResourceExhausted) << framed;
  EXPECT_TRUE(absl::StrContains(framed.message(), "framerpc.command.CommandService is busy"))
      << framed;
  grpc::Status grpc_run =
      GrpcCall("/framerpc.command.CommandService/Run", QuickRun().SerializeAsString());
  EXPECT_EQ(grpc_run.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << grpc_run.error_message();

  // A slot is freed before its call's reply is sent: once a client has its reply, Run works.
  ASSERT_TRUE(Release(*running.front()));
  running.front()->done.WaitForNotification();
  EXPECT_TRUE(running.front()->status.ok()) << running.front()->status;
  absl::Status after = FramedRun();
  EXPECT_TRUE(after.ok()) << after;
}

}  // namespace
}  // namespace framerpc::server

#include "server/exposure.h"

#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "services/auth/shared_secret.h"

namespace framerpc::server {
namespace {

auth::AccessPolicy TokenPolicy() {
  absl::StatusOr<auth::SharedSecret> secret = auth::SharedSecret::FromToken("0123456789abcdef0123");
  EXPECT_TRUE(secret.ok()) << secret.status();
  auth::AccessPolicy policy;
  policy.AcceptToken(*std::move(secret));
  return policy;
}

// FAILED_PRECONDITION whose message names `address` and `flag`.
void ExpectRefused(const absl::Status& status, const std::string& address, const std::string& flag) {
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), address)) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), flag)) << status;
}

TEST(ExposureTest, LoopbackAndUnixSocketsServeEverything) {
  Exposure exposure;
  exposure.framed = {"127.0.0.1:7000", "[::1]:7000", "unix:/tmp/x.sock"};
  exposure.grpc_port = "127.0.0.1:7001";
  exposure.grpc_same_port = true;
  const auth::AccessPolicy command = TokenPolicy();
  file::FileServiceOptions files;
  files.root.writable = true;
  files.write_access = TokenPolicy();
  EXPECT_TRUE(CheckExposure(exposure, {&command, &files}).ok());
}

TEST(ExposureTest, GrpcOnAReachableAddressNeedsItsFlag) {
  Exposure own_port;
  own_port.framed = {"127.0.0.1:7000"};
  own_port.grpc_port = "0.0.0.0:7001";
  ExpectRefused(CheckExposure(own_port, {}), "0.0.0.0:7001", "--grpc_allow_nonlocal");
  // On the shared port, the framed addresses are gRPC addresses too.
  Exposure same_port;
  same_port.framed = {"127.0.0.1:7000", "10.1.2.3:7000"};
  same_port.grpc_same_port = true;
  ExpectRefused(CheckExposure(same_port, {}), "10.1.2.3:7000", "--grpc_allow_nonlocal");
  same_port.grpc_allow_nonlocal = true;
  EXPECT_TRUE(CheckExposure(same_port, {}).ok());
  // Framed alone on a reachable address is no gRPC exposure.
  Exposure framed_only;
  framed_only.framed = {"0.0.0.0:7000"};
  EXPECT_TRUE(CheckExposure(framed_only, {}).ok());
}

TEST(ExposureTest, CommandsInPlaintextOnAReachableAddressNeedTheirFlag) {
  const auth::AccessPolicy command = TokenPolicy();
  Exposure exposure;
  exposure.framed = {"0.0.0.0:7000"};
  ExpectRefused(CheckExposure(exposure, {&command, nullptr}), "0.0.0.0:7000",
                "--accept_plaintext");
  // TLS on the listener: allowed; TLS with plaintext beside it: refused again.
  exposure.framed_tls = true;
  EXPECT_TRUE(CheckExposure(exposure, {&command, nullptr}).ok());
  exposure.framed_plaintext_too = true;
  ExpectRefused(CheckExposure(exposure, {&command, nullptr}), "0.0.0.0:7000",
                "--accept_plaintext");
  exposure.accept_plaintext = true;
  EXPECT_TRUE(CheckExposure(exposure, {&command, nullptr}).ok());
}

TEST(ExposureTest, TheGrpcPortCountsWhateverTheFramedListenersDo) {
  const auth::AccessPolicy command = TokenPolicy();
  Exposure exposure;
  exposure.framed = {"127.0.0.1:7000"};
  exposure.framed_tls = true;
  exposure.grpc_port = "0.0.0.0:7001";
  exposure.grpc_allow_nonlocal = true;
  ExpectRefused(CheckExposure(exposure, {&command, nullptr}), "0.0.0.0:7001",
                "--accept_plaintext");
  exposure.grpc_port_tls = true;
  EXPECT_TRUE(CheckExposure(exposure, {&command, nullptr}).ok());
}

TEST(ExposureTest, AWritableFileServiceIsRuledOnLikeCommands) {
  file::FileServiceOptions files;
  files.root.writable = true;
  files.read_access = TokenPolicy();
  files.write_access = TokenPolicy();
  Exposure exposure;
  exposure.framed = {"0.0.0.0:7000"};
  ExpectRefused(CheckExposure(exposure, {nullptr, &files}), "0.0.0.0:7000",
                "--accept_plaintext");
  // Read-only: the plaintext rule does not apply, the token still guards the reads.
  files.root.writable = false;
  EXPECT_TRUE(CheckExposure(exposure, {nullptr, &files}).ok());
}

TEST(ExposureTest, OpenServicesAreRefusedWhereOtherHostsReachThem) {
  Exposure exposure;
  exposure.framed = {"127.0.0.1:7000"};
  exposure.grpc_port = "0.0.0.0:7001";
  exposure.grpc_port_tls = true;
  exposure.grpc_allow_nonlocal = true;
  // An open command policy, reachable through the gRPC port only.
  const auth::AccessPolicy open = auth::AccessPolicy::Open();
  EXPECT_EQ(CheckExposure(exposure, {&open, nullptr}).code(),
            absl::StatusCode::kFailedPrecondition);
  // Open reads of files that are not declared public.
  file::FileServiceOptions files;
  EXPECT_EQ(CheckExposure(exposure, {nullptr, &files}).code(),
            absl::StatusCode::kFailedPrecondition);
  files.files_are_public = true;
  EXPECT_TRUE(CheckExposure(exposure, {nullptr, &files}).ok());
}

}  // namespace
}  // namespace framerpc::server

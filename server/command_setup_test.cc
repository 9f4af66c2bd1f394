#include "server/command_setup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace framerpc::server {
namespace {

auth::AccessPolicy TokenPolicy() {
  return auth::AccessPolicy().AcceptToken(
      auth::SharedSecret::FromToken("setup-test-token-0123456789").value());
}

TEST(CommandExposureTest, ATokenPolicyMayBeServedAnywhere) {
  EXPECT_TRUE(CheckCommandServiceExposure({"127.0.0.1:7000", "0.0.0.0:7000", "[::]:7000"},
                                          TokenPolicy())
                  .ok());
}

TEST(CommandExposureTest, AnOpenPolicyIsRefusedOnAddressesOtherHostsReach) {
  const auth::AccessPolicy open = auth::AccessPolicy::Open();
  EXPECT_TRUE(CheckCommandServiceExposure({"127.0.0.1:7000", "[::1]:1", "unix:/tmp/f.sock"}, open)
                  .ok());
  for (const char* exposed : {"0.0.0.0:7000", "[::]:7000", "192.168.1.5:7000"}) {
    absl::Status status = CheckCommandServiceExposure({"127.0.0.1:7000", exposed}, open);
    EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << exposed;
    EXPECT_NE(status.message().find(exposed), absl::string_view::npos) << status;
  }
}

TEST(CommandExposureTest, UidsNeedAUnixSocket) {
  const auth::AccessPolicy uids = auth::AccessPolicy().AcceptUnixUids({0});
  absl::Status status = CheckCommandServiceExposure({"127.0.0.1:7000"}, uids);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(),
            "the command service admits only Unix-socket peers (--command_allow_uids), but it is "
            "served on no unix: address; add one to --listen, or give --auth_token_file");
  // Remote peers get no uid, so a wildcard listener beside a Unix socket admits none of them.
  EXPECT_TRUE(CheckCommandServiceExposure({"0.0.0.0:7000", "unix:/tmp/f.sock"}, uids).ok());
  EXPECT_TRUE(CheckCommandServiceExposure({"unix:@abstract"}, uids).ok());
}

// The attack that worked: any local user reaching 127.0.0.1 ran commands as the server's user,
// with no token, because the service needed none on loopback. Now a command service with no
// credential configured does not start.
TEST(CommandSetupTest, NoCredentialIsRefused) {
  CommandServiceFlags flags;
  absl::Status status = BuildCommandServiceConfig(flags, 64 << 20).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find("--auth_token_file"), absl::string_view::npos) << status;
  EXPECT_NE(status.message().find("--command_allow_uids"), absl::string_view::npos) << status;
  EXPECT_NE(status.message().find("--trust_local_peers"), absl::string_view::npos) << status;
}

TEST(CommandSetupTest, EachCredentialFlagIsAccepted) {
  CommandServiceFlags flags;
  flags.credentials.allow_uids = {"0", "nobody"};
  absl::StatusOr<command::CommandServiceConfig> config = BuildCommandServiceConfig(flags, 64 << 20);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->access.unix_uids(), (std::set<uid_t>{0, 65534}));
  EXPECT_FALSE(config->access.accepts_token());
  EXPECT_FALSE(config->access.trusts_local_peers());

  flags.credentials.allow_uids = {};
  flags.credentials.trust_local_peers = true;
  config = BuildCommandServiceConfig(flags, 64 << 20);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->access.trusts_local_peers());

  flags.credentials.allow_uids = {"no-such-user-here"};
  EXPECT_EQ(BuildCommandServiceConfig(flags, 64 << 20).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CommandSetupTest, FlagsBecomeTheConfig) {
  CommandServiceFlags flags;
  flags.allow = {"/bin/echo", "ls"};
  flags.allow_shell = true;
  flags.max_concurrent = 3;
  flags.default_timeout = absl::Seconds(9);
  flags.exec_output_limit = 100 << 20;
  flags.credentials.trust_local_peers = true;
  absl::StatusOr<command::CommandServiceConfig> config =
      BuildCommandServiceConfig(flags, 64 << 20);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->allowed_programs, flags.allow);
  EXPECT_TRUE(config->allow_shell);
  EXPECT_EQ(config->max_concurrent, 3);
  EXPECT_EQ(config->default_timeout, absl::Seconds(9));
  EXPECT_EQ(config->exec_output_limit, size_t{100} << 20);
  EXPECT_FALSE(config->access.accepts_token());
}

TEST(CommandSetupTest, Issue12FlagsBecomeTheConfig) {
  CommandServiceFlags flags;
  flags.credentials.trust_local_peers = true;
  flags.env_allow = {"GREETING"};
  flags.lang = "";
  flags.home = "/var/empty";
  flags.workdir = "/srv/commands";
  flags.containment = "subreaper";
  flags.memory_limit = 64 << 20;
  flags.cpu_limit = absl::Seconds(10);
  absl::StatusOr<command::CommandServiceConfig> config =
      BuildCommandServiceConfig(flags, 64 << 20);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->env_allow, flags.env_allow);
  EXPECT_EQ(config->lang, "");
  EXPECT_EQ(config->home, "/var/empty");
  EXPECT_EQ(config->workdir, "/srv/commands");
  EXPECT_EQ(config->containment, command::ContainmentChoice::kSubreaper);
  EXPECT_EQ(config->memory_limit_bytes, uint64_t{64} << 20);
  EXPECT_EQ(config->cpu_limit, absl::Seconds(10));

  // The defaults: no limits, containment probed.
  CommandServiceFlags defaults;
  defaults.credentials.trust_local_peers = true;
  config = BuildCommandServiceConfig(defaults, 64 << 20);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->containment, command::ContainmentChoice::kAuto);
  EXPECT_FALSE(config->memory_limit_bytes.has_value());
  EXPECT_FALSE(config->cpu_limit.has_value());
  EXPECT_EQ(config->lang, "C.UTF-8");
  EXPECT_TRUE(config->env_allow.empty());
  EXPECT_TRUE(config->workdir.empty());
}

TEST(CommandSetupTest, BadContainmentOrCpuLimit) {
  CommandServiceFlags flags;
  flags.containment = "chroot";
  absl::Status status = BuildCommandServiceConfig(flags, 64 << 20).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("--command_containment"), absl::string_view::npos) << status;
  flags = CommandServiceFlags();
  flags.cpu_limit = absl::Seconds(-1);
  EXPECT_EQ(BuildCommandServiceConfig(flags, 64 << 20).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CommandSetupTest, RunOutputMustFitInAFrame) {
  CommandServiceFlags flags;
  flags.credentials.trust_local_peers = true;
  flags.run_output_limit = 40 << 20;  // both streams: 80 MiB > 64 MiB
  EXPECT_EQ(BuildCommandServiceConfig(flags, 64 << 20).status().code(),
            absl::StatusCode::kInvalidArgument);
  flags.run_output_limit = 16 << 20;
  EXPECT_TRUE(BuildCommandServiceConfig(flags, 64 << 20).ok());
}

TEST(CommandSetupTest, TokenFile) {
  CommandServiceFlags flags;
  flags.credentials.auth_token_file = "/nonexistent/token";
  EXPECT_EQ(BuildCommandServiceConfig(flags, 64 << 20).status().code(),
            absl::StatusCode::kNotFound);

  flags.credentials.auth_token_file = absl::StrCat(::testing::TempDir(), "/token");
  const int fd = ::open(flags.credentials.auth_token_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(fd, 0);
  const std::string token = "setup-test-token-0123456789\n";
  ASSERT_EQ(::write(fd, token.data(), token.size()), static_cast<ssize_t>(token.size()));
  ::close(fd);
  absl::StatusOr<command::CommandServiceConfig> config =
      BuildCommandServiceConfig(flags, 64 << 20);
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_TRUE(config->access.accepts_token());
  const std::string value = "Bearer setup-test-token-0123456789";
  auth::CallCredentials call;
  call.authorization = &value;
  EXPECT_TRUE(config->access.Check(call).ok());
}

}  // namespace
}  // namespace framerpc::server

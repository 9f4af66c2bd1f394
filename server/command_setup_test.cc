#include "server/command_setup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace framerpc::server {
namespace {

TEST(CommandExposureTest, LocalOnlyAddressesNeedNoToken) {
  EXPECT_TRUE(CheckCommandServiceExposure({"127.0.0.1:7000", "[::1]:7000", "unix:/tmp/f.sock"},
                                          /*has_token=*/false)
                  .ok());
}

TEST(CommandExposureTest, AnyOtherAddressNeedsAToken) {
  for (const char* exposed : {"0.0.0.0:7000", "[::]:7000", "192.168.1.5:7000"}) {
    absl::Status status =
        CheckCommandServiceExposure({"127.0.0.1:7000", exposed}, /*has_token=*/false);
    EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << exposed;
    EXPECT_NE(status.message().find(exposed), absl::string_view::npos) << status;
    EXPECT_TRUE(CheckCommandServiceExposure({exposed}, /*has_token=*/true).ok());
  }
}

TEST(CommandSetupTest, FlagsBecomeTheConfig) {
  CommandServiceFlags flags;
  flags.allow = {"/bin/echo", "ls"};
  flags.allow_shell = true;
  flags.max_concurrent = 3;
  flags.default_timeout = absl::Seconds(9);
  flags.exec_output_limit = 100 << 20;
  absl::StatusOr<command::CommandServiceConfig> config =
      BuildCommandServiceConfig(flags, 64 << 20);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->allowed_programs, flags.allow);
  EXPECT_TRUE(config->allow_shell);
  EXPECT_EQ(config->max_concurrent, 3);
  EXPECT_EQ(config->default_timeout, absl::Seconds(9));
  EXPECT_EQ(config->exec_output_limit, size_t{100} << 20);
  EXPECT_FALSE(config->token.has_value());
}

TEST(CommandSetupTest, Issue12FlagsBecomeTheConfig) {
  CommandServiceFlags flags;
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
  config = BuildCommandServiceConfig(CommandServiceFlags(), 64 << 20);
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
  flags.run_output_limit = 40 << 20;  // both streams: 80 MiB > 64 MiB
  EXPECT_EQ(BuildCommandServiceConfig(flags, 64 << 20).status().code(),
            absl::StatusCode::kInvalidArgument);
  flags.run_output_limit = 16 << 20;
  EXPECT_TRUE(BuildCommandServiceConfig(flags, 64 << 20).ok());
}

TEST(CommandSetupTest, TokenFile) {
  CommandServiceFlags flags;
  flags.auth_token_file = "/nonexistent/token";
  EXPECT_EQ(BuildCommandServiceConfig(flags, 64 << 20).status().code(),
            absl::StatusCode::kNotFound);

  flags.auth_token_file = absl::StrCat(::testing::TempDir(), "/token");
  const int fd = ::open(flags.auth_token_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(fd, 0);
  const std::string token = "setup-test-token-0123456789\n";
  ASSERT_EQ(::write(fd, token.data(), token.size()), static_cast<ssize_t>(token.size()));
  ::close(fd);
  absl::StatusOr<command::CommandServiceConfig> config =
      BuildCommandServiceConfig(flags, 64 << 20);
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_TRUE(config->token.has_value());
  const std::string value = "Bearer setup-test-token-0123456789";
  EXPECT_TRUE(config->token->Check(&value).ok());
}

}  // namespace
}  // namespace framerpc::server

#include "services/command/environment_policy.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace framerpc::command {
namespace {

using RequestEnv = EnvironmentPolicy::RequestEnv;

EnvironmentPolicy Policy(std::vector<std::string> allowed, std::string home = "") {
  absl::StatusOr<EnvironmentPolicy> policy = EnvironmentPolicy::Create(
      EnvironmentConfig{std::move(allowed), "/usr/bin:/bin", "C.UTF-8", std::move(home)});
  EXPECT_TRUE(policy.ok()) << policy.status();
  return *std::move(policy);
}

TEST(EnvironmentPolicyTest, BaseIsPathLangAndHomeOnly) {
  const EnvironmentPolicy policy = Policy({});
  EXPECT_EQ(policy.Build(RequestEnv(), "/work/dir"),
            (std::map<std::string, std::string>{
                {"HOME", "/work/dir"}, {"LANG", "C.UTF-8"}, {"PATH", "/usr/bin:/bin"}}));
  // A configured HOME wins over the working directory.
  EXPECT_EQ(Policy({}, "/home/cmd").Build(RequestEnv(), "/work/dir").at("HOME"), "/home/cmd");
}

TEST(EnvironmentPolicyTest, AllowedNamesAreAddedOnTop) {
  const EnvironmentPolicy policy = Policy({"GREETING", "LANG"});
  RequestEnv request;
  request["GREETING"] = "hello world";
  request["LANG"] = "de_DE.UTF-8";
  ASSERT_TRUE(policy.Check(request).ok());
  const std::map<std::string, std::string> env = policy.Build(request, "/w");
  EXPECT_EQ(env.at("GREETING"), "hello world");
  EXPECT_EQ(env.at("LANG"), "de_DE.UTF-8");
  EXPECT_EQ(env.at("PATH"), "/usr/bin:/bin");
}

// The attack of issue 12: names nobody thought to deny. With an allowlist, the default allows
// nothing, and the refusal names the variable.
TEST(EnvironmentPolicyTest, EveryNameOutsideTheAllowlistIsRefusedByName) {
  const EnvironmentPolicy policy = Policy({"GREETING"});
  for (const char* name : {"BASH_ENV", "BASH_FUNC_echo%%", "ENV", "SHELLOPTS", "PS4", "IFS",
                           "LD_PRELOAD", "PATH", "HOME", "PYTHONSTARTUP", "greeting", "OTHER"}) {
    RequestEnv request;
    request[name] = "x";
    absl::Status status = policy.Check(request);
    EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << name;
    EXPECT_NE(status.message().find(absl::StrCat("'", name, "'")), absl::string_view::npos)
        << status;
  }
}

TEST(EnvironmentPolicyTest, MalformedEntriesAreInvalid) {
  const EnvironmentPolicy policy = Policy({"A"});
  for (const std::string& name : {std::string(""), std::string("A=B"), std::string("A\0B", 3)}) {
    RequestEnv request;
    request[name] = "x";
    EXPECT_EQ(policy.Check(request).code(), absl::StatusCode::kInvalidArgument) << name;
  }
  RequestEnv request;
  request["A"] = std::string("x\0y", 3);
  EXPECT_EQ(policy.Check(request).code(), absl::StatusCode::kInvalidArgument);
}

TEST(EnvironmentPolicyTest, DangerousNamesCannotBeAllowed) {
  for (const char* name :
       {"PATH", "HOME", "LD_PRELOAD", "LD_LIBRARY_PATH", "LD_AUDIT", "GCONV_PATH",
        "GLIBC_TUNABLES", "TMPDIR", "MALLOC_CHECK_", "BASH_ENV", "ENV", "BASH_FUNC_echo%%",
        "BASH_FUNC_echo", "SHELLOPTS", "BASHOPTS", "PS4", "IFS", "CDPATH", "PYTHONSTARTUP",
        "PYTHONPATH", "PERL5OPT", "PERL5LIB", "RUBYOPT", "NODE_OPTIONS", "JAVA_TOOL_OPTIONS",
        "GIT_SSH_COMMAND", "EDITOR", "PAGER", "OPENSSL_CONF", "1ABC", "A-B", "A B", ""}) {
    absl::Status status = CheckAllowableName(name);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << name;
  }
  for (const char* name : {"LANG", "LC_ALL", "TZ", "TERM", "GREETING", "MY_PATH", "_X1"}) {
    EXPECT_TRUE(CheckAllowableName(name).ok()) << name;
  }
}

TEST(EnvironmentPolicyTest, CreateListsEveryRefusedNameWithItsReason) {
  absl::StatusOr<EnvironmentPolicy> policy = EnvironmentPolicy::Create(
      EnvironmentConfig{{"GREETING", "BASH_ENV", "LD_PRELOAD"}, "/bin", "", ""});
  ASSERT_EQ(policy.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(policy.status().message().find("BASH_ENV: a shell reads it at startup"),
            absl::string_view::npos)
      << policy.status();
  EXPECT_NE(policy.status().message().find("LD_PRELOAD: the dynamic loader"),
            absl::string_view::npos)
      << policy.status();
  EXPECT_EQ(policy.status().message().find("GREETING"), absl::string_view::npos);
}

TEST(EnvironmentPolicyTest, NoLangWhenConfiguredEmpty) {
  absl::StatusOr<EnvironmentPolicy> policy =
      EnvironmentPolicy::Create(EnvironmentConfig{{}, "/bin", "", ""});
  ASSERT_TRUE(policy.ok());
  EXPECT_EQ(policy->Build(RequestEnv(), "/w").count("LANG"), 0u);
}

}  // namespace
}  // namespace framerpc::command

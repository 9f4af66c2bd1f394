#include "server/credential_flags.h"

#include <set>
#include <string>

#include "gtest/gtest.h"

namespace framerpc::server {
namespace {

TEST(ParseUidsTest, NumbersAndNames) {
  auto uids = ParseUids({"0", "1000", "nobody", "root"}, "--x_uids");
  ASSERT_TRUE(uids.ok()) << uids.status();
  EXPECT_EQ(*uids, (std::set<uid_t>{0, 1000, 65534}));
}

TEST(ParseUidsTest, BadEntriesAreRefusedWithTheFlagsName) {
  for (const char* bad : {"", "-1", "4294967295", "99999999999", "no-such-user-here", "1x"}) {
    auto uids = ParseUids({bad}, "--x_uids");
    ASSERT_FALSE(uids.ok()) << bad;
    EXPECT_EQ(uids.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(uids.status().message().rfind("--x_uids: ", 0), 0u) << uids.status();
  }
}

TEST(BuildAccessPolicyTest, EachFlagAddsItsCredential) {
  CredentialFlags flags;
  auto policy = BuildAccessPolicy(flags, "--x_uids", "x");
  ASSERT_TRUE(policy.ok());
  EXPECT_FALSE(policy->admits_anyone());
  flags.allow_uids = {"7"};
  flags.trust_local_peers = true;
  policy = BuildAccessPolicy(flags, "--x_uids", "x");
  ASSERT_TRUE(policy.ok());
  EXPECT_EQ(policy->unix_uids(), (std::set<uid_t>{7}));
  EXPECT_TRUE(policy->trusts_local_peers());
  EXPECT_FALSE(policy->accepts_token());
  flags.auth_token_file = "/nonexistent/token";
  EXPECT_EQ(BuildAccessPolicy(flags, "--x_uids", "x").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace framerpc::server

#include "services/command/program_allowlist.h"

#include "gtest/gtest.h"

namespace framerpc::command {
namespace {

TEST(ProgramAllowlistTest, BareNameAllowsOnlyTheBareRequest) {
  absl::StatusOr<ProgramAllowlist> allow = ProgramAllowlist::Create({"ls"});
  ASSERT_TRUE(allow.ok()) << allow.status();
  EXPECT_TRUE(allow->Check("ls", "/usr/bin/ls").ok());
  // Anyone could create a file called ls elsewhere.
  EXPECT_EQ(allow->Check("/tmp/evil/ls", "/tmp/evil/ls").code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(allow->Check("./ls", "/home/u/ls").code(), absl::StatusCode::kPermissionDenied);
}

TEST(ProgramAllowlistTest, AbsoluteEntryMatchesTheResolvedPath) {
  absl::StatusOr<ProgramAllowlist> allow = ProgramAllowlist::Create({"/usr/bin/cat"});
  ASSERT_TRUE(allow.ok());
  EXPECT_TRUE(allow->Check("/usr/bin/cat", "/usr/bin/cat").ok());
  EXPECT_TRUE(allow->Check("cat", "/usr/bin/cat").ok());
  EXPECT_EQ(allow->Check("cat", "/usr/local/bin/cat").code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(allow->Check("/bin/cat", "/bin/cat").code(), absl::StatusCode::kPermissionDenied);
}

TEST(ProgramAllowlistTest, DeniedMessageNamesTheProgram) {
  absl::StatusOr<ProgramAllowlist> allow = ProgramAllowlist::Create({"ls", "/usr/bin/cat"});
  ASSERT_TRUE(allow.ok());
  absl::Status denied = allow->Check("rm", "/usr/bin/rm");
  EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(denied.message(), "program 'rm' is not in the allowlist");
}

TEST(ProgramAllowlistTest, EmptyAllowlistAllowsNothing) {
  absl::StatusOr<ProgramAllowlist> allow = ProgramAllowlist::Create({});
  ASSERT_TRUE(allow.ok());
  EXPECT_EQ(allow->Check("ls", "/usr/bin/ls").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(allow->Check("", "").code(), absl::StatusCode::kPermissionDenied);
}

TEST(ProgramAllowlistTest, RejectsAmbiguousEntries) {
  EXPECT_EQ(ProgramAllowlist::Create({"bin/ls"}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ProgramAllowlist::Create({""}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ProgramAllowlist::Create({std::string("l\0s", 3)}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace framerpc::command

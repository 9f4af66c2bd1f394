#include "services/command/program_allowlist.h"

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "services/command/executable.h"
#include "services/command/process_test_util.h"

namespace framerpc::command {
namespace {

void WriteProgram(const std::string& path, const std::string& text) {
  std::ofstream(path) << "#!/bin/sh\n" << text << "\n";
  ASSERT_EQ(::chmod(path.c_str(), 0755), 0);
}

ProgramAllowlist Allow(std::vector<std::string> entries, std::string path_env) {
  absl::StatusOr<ProgramAllowlist> allow = ProgramAllowlist::Create(entries, path_env);
  EXPECT_TRUE(allow.ok()) << allow.status();
  return *std::move(allow);
}

absl::StatusCode OpenCode(const ProgramAllowlist& allow, absl::string_view requested) {
  return allow.Open(requested).status().code();
}

class ProgramAllowlistTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::MakeTempDir();
    WriteProgram(dir_ + "/tool", "echo tool");
  }
  std::string dir_;
};

TEST_F(ProgramAllowlistTest, BareNameAllowsOnlyTheBareRequest) {
  const ProgramAllowlist allow = Allow({"tool"}, dir_);
  absl::StatusOr<ScopedFd> fd = allow.Open("tool");
  ASSERT_TRUE(fd.ok()) << fd.status();
  // Anyone could create a file called tool elsewhere.
  EXPECT_EQ(OpenCode(allow, dir_ + "/tool"), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(OpenCode(allow, "./tool"), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(OpenCode(allow, "other"), absl::StatusCode::kPermissionDenied);
}

TEST_F(ProgramAllowlistTest, AbsoluteEntryMatchesTheResolvedPath) {
  const std::string other = test::MakeTempDir();
  WriteProgram(other + "/tool", "echo other");
  const ProgramAllowlist allow = Allow({dir_ + "/tool"}, dir_);
  EXPECT_TRUE(allow.Open(dir_ + "/tool").ok());
  EXPECT_TRUE(allow.Open("tool").ok());  // resolved through PATH to the entry
  EXPECT_EQ(OpenCode(allow, other + "/tool"), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(OpenCode(allow, dir_ + "/../" + dir_.substr(dir_.rfind('/') + 1) + "/tool"),
            absl::StatusCode::kPermissionDenied);  // compared as strings
  const ProgramAllowlist other_first = Allow({dir_ + "/tool"}, other + ":" + dir_);
  EXPECT_EQ(OpenCode(other_first, "tool"), absl::StatusCode::kPermissionDenied);
}

TEST_F(ProgramAllowlistTest, OpensThePinnedFile) {
  const ProgramAllowlist allow = Allow({dir_ + "/tool"}, "");
  absl::StatusOr<ScopedFd> fd = allow.Open(dir_ + "/tool");
  ASSERT_TRUE(fd.ok()) << fd.status();
  struct stat by_path;
  ASSERT_EQ(::stat((dir_ + "/tool").c_str(), &by_path), 0);
  absl::StatusOr<FileIdentity> id = IdentityOf(fd->get());
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->inode, by_path.st_ino);
  EXPECT_EQ(id->device, by_path.st_dev);
}

TEST_F(ProgramAllowlistTest, DeniedMessageNamesTheProgram) {
  const ProgramAllowlist allow = Allow({"tool"}, dir_);
  absl::Status denied = allow.Open("rm").status();
  EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(denied.message(), "program 'rm' is not in the allowlist");
}

TEST_F(ProgramAllowlistTest, EmptyAllowlistAllowsNothing) {
  const ProgramAllowlist allow = Allow({}, dir_);
  EXPECT_EQ(OpenCode(allow, "tool"), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(OpenCode(allow, dir_ + "/tool"), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(OpenCode(allow, ""), absl::StatusCode::kPermissionDenied);
}

TEST_F(ProgramAllowlistTest, RejectsAmbiguousEntries) {
  EXPECT_EQ(ProgramAllowlist::Create({"bin/ls"}, dir_).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ProgramAllowlist::Create({""}, dir_).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ProgramAllowlist::Create({std::string("l\0s", 3)}, dir_).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Resolved once, at start: an entry that leads nowhere is a configuration error, not a NOT_FOUND
// for each request.
TEST_F(ProgramAllowlistTest, EntriesThatDoNotResolveFailCreate) {
  absl::Status missing = ProgramAllowlist::Create({dir_ + "/missing"}, dir_).status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.message().find(dir_ + "/missing"), absl::string_view::npos) << missing;
  EXPECT_EQ(ProgramAllowlist::Create({"missing"}, dir_).status().code(),
            absl::StatusCode::kNotFound);
  std::ofstream(dir_ + "/data") << "not a program\n";
  EXPECT_EQ(ProgramAllowlist::Create({dir_ + "/data"}, dir_).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ProgramAllowlist::Create({dir_}, dir_).status().code(),
            absl::StatusCode::kPermissionDenied);
}

// What the request resolves to is checked again at every request.
TEST_F(ProgramAllowlistTest, ChangesSinceCreateAreRefused) {
  const ProgramAllowlist allow = Allow({dir_ + "/tool", "tool"}, dir_);
  ASSERT_TRUE(allow.Open("tool").ok());

  // Modified in place: same inode, new contents and times.
  WriteProgram(dir_ + "/tool", "echo modified");
  for (const std::string& requested : {dir_ + "/tool", std::string("tool")}) {
    absl::Status status = allow.Open(requested).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << requested;
    EXPECT_NE(status.message().find("has changed since the server started"),
              absl::string_view::npos)
        << status;
  }
  // Deleted.
  ASSERT_EQ(::unlink((dir_ + "/tool").c_str()), 0);
  EXPECT_EQ(OpenCode(allow, dir_ + "/tool"), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(OpenCode(allow, "tool"), absl::StatusCode::kPermissionDenied);
}

// A new file earlier in PATH shadows a bare-name entry: refused, not run.
TEST_F(ProgramAllowlistTest, ShadowingInPathIsRefused) {
  const std::string first = test::MakeTempDir();
  const ProgramAllowlist allow = Allow({"tool"}, first + ":" + dir_);
  ASSERT_TRUE(allow.Open("tool").ok());
  WriteProgram(first + "/tool", "echo shadow");
  absl::Status status = allow.Open("tool").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(status.message().find("has changed"), absl::string_view::npos) << status;
}

}  // namespace
}  // namespace framerpc::command

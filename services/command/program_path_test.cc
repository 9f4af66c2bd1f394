#include "services/command/program_path.h"

#include <sys/stat.h>

#include <fstream>

#include "gtest/gtest.h"
#include "services/command/process_test_util.h"

namespace framerpc::command {
namespace {

// The resolved path, or the error as text, so that failures print something useful.
std::string Resolve(absl::string_view program, absl::string_view path_env,
                    int dir_fd = AT_FDCWD) {
  absl::StatusOr<std::string> path = ResolveProgram(program, path_env, dir_fd);
  return path.ok() ? *path : path.status().ToString();
}

void WriteFile(const std::string& path, mode_t mode) {
  std::ofstream(path) << "#!/bin/sh\n";
  ASSERT_EQ(::chmod(path.c_str(), mode), 0);
}

TEST(ProgramPathTest, FindsBareNameInPathOrder) {
  const std::string first = test::MakeTempDir();
  const std::string second = test::MakeTempDir();
  WriteFile(first + "/tool", 0755);
  WriteFile(second + "/tool", 0755);
  EXPECT_EQ(Resolve("tool", first + ":" + second), first + "/tool");
  EXPECT_EQ(Resolve("tool", second + ":" + first), second + "/tool");
}

TEST(ProgramPathTest, DefaultPathFindsSystemTools) {
  absl::StatusOr<std::string> echo = ResolveProgram("echo", kDefaultPath);
  ASSERT_TRUE(echo.ok()) << echo.status();
  EXPECT_EQ(echo->front(), '/');
  EXPECT_EQ(echo->substr(echo->size() - 5), "/echo");
}

TEST(ProgramPathTest, SkipsNonExecutableAndDirectoryCandidates) {
  const std::string first = test::MakeTempDir();
  const std::string second = test::MakeTempDir();
  WriteFile(first + "/tool", 0644);                       // not executable
  ASSERT_EQ(::mkdir((first + "/dir").c_str(), 0755), 0);  // a directory
  WriteFile(second + "/tool", 0755);
  WriteFile(second + "/dir", 0755);
  EXPECT_EQ(Resolve("tool", first + ":" + second), second + "/tool");
  EXPECT_EQ(Resolve("dir", first + ":" + second), second + "/dir");
  EXPECT_EQ(ResolveProgram("tool", first).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(ProgramPathTest, IgnoresEmptyAndRelativePathEntries) {
  const std::string dir = test::MakeTempDir();
  WriteFile(dir + "/tool", 0755);
  // "" and "." would mean the child's directory; they are skipped even when it holds the tool.
  ScopedFd dir_fd = test::OpenDir(dir);
  EXPECT_EQ(ResolveProgram("tool", ":.:relative", dir_fd.get()).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Resolve("tool", "::" + dir + "/"), dir + "/tool");
}

TEST(ProgramPathTest, NotFound) {
  absl::StatusOr<std::string> missing = ResolveProgram("framerpc-missing", kDefaultPath);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("framerpc-missing"), absl::string_view::npos);
  EXPECT_EQ(ResolveProgram("/no/such/file", kDefaultPath).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(ProgramPathTest, NameWithSlashIsNotSearched) {
  const std::string dir = test::MakeTempDir();
  WriteFile(dir + "/tool", 0755);
  ScopedFd dir_fd = test::OpenDir(dir);
  EXPECT_EQ(Resolve(dir + "/tool", ""), dir + "/tool");
  // Relative to the directory given, and returned as it is.
  EXPECT_EQ(Resolve("./tool", "/bin", dir_fd.get()), "./tool");
  EXPECT_EQ(ResolveProgram("./tool", "/bin").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ResolveProgram("sub/tool", dir, dir_fd.get()).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(ResolveProgram(dir, "").status().code(), absl::StatusCode::kPermissionDenied);
}

TEST(ProgramPathTest, RejectsEmptyAndNul) {
  EXPECT_EQ(ResolveProgram("", kDefaultPath).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ResolveProgram(std::string("ec\0ho", 5), kDefaultPath).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ProgramPathTest, OpenWorkingDirectory) {
  const std::string dir = test::MakeTempDir();
  WriteFile(dir + "/file", 0644);
  EXPECT_TRUE(OpenWorkingDirectory(dir).ok());
  EXPECT_EQ(OpenWorkingDirectory(dir + "/missing").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(OpenWorkingDirectory(dir + "/file/below").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(OpenWorkingDirectory(dir + "/file").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenWorkingDirectory("tmp").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenWorkingDirectory("").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace framerpc::command

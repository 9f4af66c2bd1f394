#include "services/file/client_path.h"

#include <limits.h>

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace framerpc::file {
namespace {

using Names = std::vector<std::string>;

absl::StatusCode CodeOf(absl::string_view path) { return ClientPath::Parse(path).status().code(); }

std::string MessageOf(absl::string_view path) {
  return std::string(ClientPath::Parse(path).status().message());
}

TEST(ClientPathTest, PlainPathsSplitIntoNames) {
  auto path = ClientPath::Parse("a/b/c.txt");
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_EQ(path->components(), (Names{"a", "b", "c.txt"}));
  EXPECT_EQ(path->Relative(), "a/b/c.txt");
  EXPECT_EQ(path->Name(), "c.txt");
  EXPECT_EQ(path->Parent().Relative(), "a/b");
  EXPECT_FALSE(path->is_root());
}

TEST(ClientPathTest, DotIsTheRoot) {
  for (const char* root : {".", "./.", "a/..", "a/b/../..", "./a/../."}) {
    auto path = ClientPath::Parse(root);
    ASSERT_TRUE(path.ok()) << root << ": " << path.status();
    EXPECT_TRUE(path->is_root()) << root;
    EXPECT_EQ(path->Relative(), ".") << root;
  }
}

TEST(ClientPathTest, ParentOfASingleNameIsTheRoot) {
  EXPECT_TRUE(ClientPath::Parse("file")->Parent().is_root());
}

TEST(ClientPathTest, DotsResolveLexically) {
  EXPECT_EQ(ClientPath::Parse("a/./b")->Relative(), "a/b");
  EXPECT_EQ(ClientPath::Parse("a/../b")->Relative(), "b");
  EXPECT_EQ(ClientPath::Parse("a/b/../../c/./d")->Relative(), "c/d");
  // Names that merely contain dots are names.
  EXPECT_EQ(ClientPath::Parse("...")->components(), Names{"..."});
  EXPECT_EQ(ClientPath::Parse("..a/.b/c..")->components(), (Names{"..a", ".b", "c.."}));
}

TEST(ClientPathTest, EscapesAreRefused) {
  for (const char* escape : {"..", "../canary", "a/../../canary", "a/./../../canary", "./..",
                             "a/b/../../..", "../root/a"}) {
    EXPECT_EQ(CodeOf(escape), absl::StatusCode::kInvalidArgument) << escape;
    EXPECT_NE(MessageOf(escape).find("escapes the root"), std::string::npos) << MessageOf(escape);
  }
  EXPECT_EQ(MessageOf("a/../../etc"), "path 'a/../../etc' escapes the root");
}

TEST(ClientPathTest, AbsolutePathsAreRefused) {
  EXPECT_EQ(CodeOf("/etc/passwd"), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MessageOf("/etc/passwd"), "absolute paths are not allowed: '/etc/passwd'");
  EXPECT_EQ(CodeOf("/"), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf("//a"), absl::StatusCode::kInvalidArgument);
}

TEST(ClientPathTest, NulBytesAreRefusedAndEscapedInTheMessage) {
  const std::string path("a\0/../../etc", 12);
  EXPECT_EQ(CodeOf(path), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MessageOf(path), "path 'a\\x00/../../etc' contains a NUL byte");
  EXPECT_EQ(CodeOf(std::string(1, '\0')), absl::StatusCode::kInvalidArgument);
}

TEST(ClientPathTest, EmptyPathsAndNamesAreRefused) {
  EXPECT_EQ(CodeOf(""), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MessageOf(""), "path is empty");
  for (const char* path : {"a//b", "a/", "./", "a/b/"}) {
    EXPECT_EQ(CodeOf(path), absl::StatusCode::kInvalidArgument) << path;
    EXPECT_NE(MessageOf(path).find("empty component"), std::string::npos) << MessageOf(path);
  }
}

TEST(ClientPathTest, NameLengthIsBoundedByNameMax) {
  EXPECT_TRUE(ClientPath::Parse(std::string(NAME_MAX, 'n')).ok());
  const std::string too_long(NAME_MAX + 1, 'n');
  EXPECT_EQ(CodeOf(too_long), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(MessageOf("a/" + too_long).find("longer than NAME_MAX"), std::string::npos);
}

TEST(ClientPathTest, PathLengthIsBoundedByPathMax) {
  // PATH_MAX counts the terminating NUL: 4095 bytes are fine, 4096 are not.
  std::string longest;
  while (longest.size() + 101 <= PATH_MAX - 1) longest += std::string(100, 'x') + "/";
  longest += std::string(PATH_MAX - 1 - longest.size(), 'y');
  ASSERT_EQ(longest.size(), static_cast<size_t>(PATH_MAX - 1));
  EXPECT_TRUE(ClientPath::Parse(longest).ok()) << ClientPath::Parse(longest).status();
  EXPECT_EQ(CodeOf(longest + "z"), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(MessageOf(longest + "z").find("longer than PATH_MAX"), std::string::npos);
  EXPECT_EQ(CodeOf(std::string(5000, 'n')), absl::StatusCode::kInvalidArgument);
}

TEST(ClientPathTest, MessagesQuoteAtMost128Bytes) {
  const std::string message = MessageOf("/" + std::string(5000, 'n'));
  EXPECT_LT(message.size(), 200u);
  EXPECT_NE(message.find("...'"), std::string::npos);
}

TEST(ClientPathTest, QuotePathEscapesControlCharacters) {
  EXPECT_EQ(QuotePath("a\nb'c"), "'a\\nb\\'c'");
}

}  // namespace
}  // namespace framerpc::file

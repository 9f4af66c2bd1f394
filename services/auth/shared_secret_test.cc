#include "services/auth/shared_secret.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace framerpc::auth {
namespace {

constexpr char kToken[] = "c2VjcmV0LXRva2VuLWZvci10ZXN0cw==";

SharedSecret Secret() { return SharedSecret::FromToken(kToken).value(); }

absl::StatusCode CheckCode(const SharedSecret& secret, const std::string* authorization) {
  return secret.Check(authorization).code();
}

TEST(SharedSecretTest, AcceptsTheBearerToken) {
  const std::string value = AuthorizationValue(kToken);
  EXPECT_EQ(value, absl::StrCat("Bearer ", kToken));
  EXPECT_TRUE(Secret().Check(&value).ok());
}

TEST(SharedSecretTest, RefusesMissingMalformedAndWrongTokens) {
  const SharedSecret secret = Secret();
  EXPECT_EQ(CheckCode(secret, nullptr), absl::StatusCode::kUnauthenticated);
  const std::string token(kToken);
  for (const std::string& value : {
           std::string(""),
           std::string("Bearer "),
           token,                                  // no scheme
           absl::StrCat("bearer ", token),         // the scheme is case-sensitive here
           absl::StrCat("Bearer  ", token),        // one space only
           absl::StrCat("Basic ", token),
           absl::StrCat("Bearer ", token, "x"),    // the token plus more
           absl::StrCat("Bearer ", token.substr(0, token.size() - 1)),  // a prefix
           absl::StrCat("Bearer ", token, token),  // the token twice (cyclic reading)
           absl::StrCat("Bearer ", std::string(token.size(), 'A')),
       }) {
    EXPECT_EQ(CheckCode(secret, &value), absl::StatusCode::kUnauthenticated) << value;
  }
}

TEST(SharedSecretTest, FromTokenValidates) {
  EXPECT_EQ(SharedSecret::FromToken("short").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SharedSecret::FromToken(std::string(kMaxTokenBytes + 1, 'a')).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SharedSecret::FromToken("has a space in the middle").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SharedSecret::FromToken(std::string("nul\0in-the-middle-of-it", 23)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(SharedSecret::FromToken(std::string(kMinTokenBytes, 'a')).ok());
}

TEST(ConstantTimeEqualsTest, ComparesWholeStrings) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcabc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", ""));
  EXPECT_FALSE(ConstantTimeEquals("a", std::string("a\0", 2)));
}

class TokenFileTest : public ::testing::Test {
 protected:
  std::string WriteFile(const std::string& contents, mode_t mode) {
    const std::string path = absl::StrCat(::testing::TempDir(), "/token", counter_++);
    ::unlink(path.c_str());
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(::write(fd, contents.data(), contents.size()),
              static_cast<ssize_t>(contents.size()));
    EXPECT_EQ(::fchmod(fd, mode), 0);
    ::close(fd);
    return path;
  }

  int counter_ = 0;
};

TEST_F(TokenFileTest, ReadsTheTokenWithoutTrailingWhitespace) {
  absl::StatusOr<SharedSecret> secret =
      SharedSecret::FromFile(WriteFile(absl::StrCat(kToken, "\r\n"), 0600));
  ASSERT_TRUE(secret.ok()) << secret.status();
  const std::string value = AuthorizationValue(kToken);
  EXPECT_TRUE(secret->Check(&value).ok());
}

TEST_F(TokenFileTest, ReadTokenFileGivesTheTokenForClients) {
  absl::StatusOr<std::string> token = ReadTokenFile(WriteFile(absl::StrCat(kToken, "\n"), 0600));
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(*token, kToken);
  EXPECT_EQ(ReadTokenFile(WriteFile(kToken, 0644)).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(TokenFileTest, RefusesFilesOthersCanRead) {
  for (const mode_t mode : {0640, 0604, 0620, 0644}) {
    absl::StatusOr<SharedSecret> secret = SharedSecret::FromFile(WriteFile(kToken, mode));
    EXPECT_EQ(secret.status().code(), absl::StatusCode::kFailedPrecondition) << mode;
  }
}

TEST_F(TokenFileTest, ReportsMissingFilesDirectoriesAndBadTokens) {
  EXPECT_EQ(SharedSecret::FromFile("/nonexistent/token").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(SharedSecret::FromFile(::testing::TempDir()).status().code(),
            absl::StatusCode::kFailedPrecondition);
  absl::StatusOr<SharedSecret> empty = SharedSecret::FromFile(WriteFile("\n", 0600));
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument);
  absl::StatusOr<SharedSecret> huge =
      SharedSecret::FromFile(WriteFile(std::string(3 * kMaxTokenBytes, 'a'), 0600));
  EXPECT_EQ(huge.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace framerpc::auth

// Hasher's choice of algorithm, the names and sizes, and the proto mapping: a request that names
// no algorithm means SHA-256 (every client before the choice), an unknown value is refused.
#include "services/file/checksum.h"

#include <string>
#include <utility>

#include "gtest/gtest.h"
#include "services/file/checksum_proto.h"

namespace framerpc::file {
namespace {

TEST(ChecksumTest, EachAlgorithmIsItsOwnHash) {
  EXPECT_EQ(Hasher::Of(HashAlgorithm::kSha256, "abc"), Sha256::Of("abc"));
  EXPECT_EQ(Hasher::Of(HashAlgorithm::kXxh128, "abc"), Xxh128::Of("abc"));
  EXPECT_EQ(DigestBytes(HashAlgorithm::kSha256), 32u);
  EXPECT_EQ(DigestBytes(HashAlgorithm::kXxh128), 16u);
  EXPECT_EQ(AlgorithmName(HashAlgorithm::kSha256), "SHA-256");
  EXPECT_EQ(AlgorithmName(HashAlgorithm::kXxh128), "XXH3-128");
}

TEST(ChecksumTest, HasherFinishStartsOverAndMoves) {
  Hasher hasher(HashAlgorithm::kXxh128);
  hasher.Update("a");
  Hasher moved = std::move(hasher);
  EXPECT_EQ(moved.algorithm(), HashAlgorithm::kXxh128);
  moved.Update("bc");
  EXPECT_EQ(moved.Finish(), Xxh128::Of("abc"));
  EXPECT_EQ(moved.Finish(), Xxh128::Of(""));
}

TEST(ChecksumProtoTest, UnnamedIsSha256AndUnknownIsRefused) {
  EXPECT_EQ(*AlgorithmFromProto(CHECKSUM_UNSPECIFIED), HashAlgorithm::kSha256);
  EXPECT_EQ(*AlgorithmFromProto(CHECKSUM_SHA256), HashAlgorithm::kSha256);
  EXPECT_EQ(*AlgorithmFromProto(CHECKSUM_XXH3_128), HashAlgorithm::kXxh128);
  EXPECT_EQ(AlgorithmToProto(HashAlgorithm::kSha256), CHECKSUM_SHA256);
  EXPECT_EQ(AlgorithmToProto(HashAlgorithm::kXxh128), CHECKSUM_XXH3_128);
  for (const int unknown : {3, -1, 1 << 30}) {
    absl::StatusOr<HashAlgorithm> got = AlgorithmFromProto(unknown);
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(got.status().message().find("unknown checksum algorithm " + std::to_string(unknown)),
              absl::string_view::npos)
        << got.status();
  }
}

TEST(ChecksumProtoTest, DigestSizeIsTheAlgorithms) {
  EXPECT_TRUE(CheckDigestSize(HashAlgorithm::kXxh128, "", "the digest").ok());
  EXPECT_TRUE(CheckDigestSize(HashAlgorithm::kXxh128, std::string(16, 'x'), "the digest").ok());
  absl::Status status =
      CheckDigestSize(HashAlgorithm::kXxh128, std::string(32, 'x'), "the header's digest");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "the header's digest must be 16 bytes (XXH3-128), not 32");
  EXPECT_FALSE(CheckDigestSize(HashAlgorithm::kSha256, std::string(16, 'x'), "d").ok());
}

}  // namespace
}  // namespace framerpc::file

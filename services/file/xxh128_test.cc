// Xxh128, and both checksum algorithms through Hasher, against the shared golden vectors
// (tests/vectors/checksums.json, made by gen_checksums.py from python3-xxhash and hashlib, which
// the Python and Node clients check themselves against too): whole, and fed in uneven pieces that
// cross XXH3's internal buffer. Also a value xxh128sum prints.
#include "services/file/xxh128.h"

#include <fstream>
#include <sstream>
#include <string>
#include <utility>

#include "absl/strings/escaping.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "services/file/checksum.h"
#include "tests/vectors/vectors.pb.h"

namespace framerpc::file {
namespace {

std::string Hex(absl::string_view digest) { return absl::BytesToHexString(digest); }

vectors::ChecksumVectors LoadVectors() {
  std::ifstream in("tests/vectors/checksums.json", std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open tests/vectors/checksums.json";
  std::stringstream text;
  text << in.rdbuf();
  vectors::ChecksumVectors out;
  const auto status = google::protobuf::util::JsonStringToMessage(text.str(), &out);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return out;
}

std::string Input(const vectors::ChecksumVector& v) {
  if (v.has_text()) return v.text();
  std::string data(v.size(), '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i % 251);
  return data;
}

TEST(Xxh128Test, WhatXxh128sumPrints) {
  // printf abc | xxh128sum
  EXPECT_EQ(Hex(Xxh128::Of("abc")), "06b05ab6733a618578af5f94892f3950");
  EXPECT_EQ(Hex(Xxh128::Of("")), "99aa06d3014798d86001c324468d497f");
  EXPECT_EQ(Xxh128::Of("abc").size(), Xxh128::kDigestBytes);
}

TEST(Xxh128Test, GoldenVectorsWholeAndInPieces) {
  const vectors::ChecksumVectors golden = LoadVectors();
  ASSERT_EQ(golden.format(), 1u);
  ASSERT_GE(golden.vectors_size(), 20);
  for (const vectors::ChecksumVector& v : golden.vectors()) {
    SCOPED_TRACE(v.name());
    const std::string data = Input(v);
    EXPECT_EQ(Hex(Hasher::Of(HashAlgorithm::kXxh128, data)), v.xxh3_128());
    EXPECT_EQ(Hex(Hasher::Of(HashAlgorithm::kSha256, data)), v.sha256());
    for (const HashAlgorithm algorithm : {HashAlgorithm::kXxh128, HashAlgorithm::kSha256}) {
      Hasher hasher(algorithm);
      for (size_t at = 0, step = 1; at < data.size(); at += step, step = step * 5 % 1031 + 1) {
        hasher.Update(absl::string_view(data).substr(at, step));
      }
      EXPECT_EQ(Hex(hasher.Finish()),
                algorithm == HashAlgorithm::kXxh128 ? v.xxh3_128() : v.sha256());
    }
  }
}

TEST(Xxh128Test, FinishStartsOverAndMovesKeepState) {
  Xxh128 xxh;
  xxh.Update("ab");
  Xxh128 moved = std::move(xxh);
  moved.Update("c");
  EXPECT_EQ(moved.Finish(), Xxh128::Of("abc"));
  EXPECT_EQ(moved.Finish(), Xxh128::Of(""));
  Xxh128 assigned;
  assigned = std::move(moved);
  assigned.Update("abc");
  EXPECT_EQ(assigned.Finish(), Xxh128::Of("abc"));
}

}  // namespace
}  // namespace framerpc::file

// Sha256 against the FIPS 180-4 example vectors (NIST's "SHA-256 examples"), the empty message,
// and split updates.
#include "services/file/sha256.h"

#include <string>
#include <utility>

#include "gtest/gtest.h"

namespace framerpc::file {
namespace {

std::string Hex(absl::string_view data) { return DigestToHex(Sha256::Of(data)); }

TEST(Sha256Test, FipsVectors) {
  EXPECT_EQ(Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(Hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  EXPECT_EQ(Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256Test, UpdatesInPiecesEqualOneUpdate) {
  std::string data;
  for (int i = 0; i < 100000; ++i) data.push_back(static_cast<char>(i * 7));
  Sha256 sha;
  for (size_t at = 0, step = 1; at < data.size(); at += step, step = step * 3 % 4099 + 1) {
    sha.Update(absl::string_view(data).substr(at, step));
  }
  EXPECT_EQ(sha.Finish(), Sha256::Of(data));
}

TEST(Sha256Test, FinishStartsOverAndMovesKeepState) {
  Sha256 sha;
  sha.Update("ab");
  Sha256 moved = std::move(sha);
  moved.Update("c");
  EXPECT_EQ(moved.Finish(), Sha256::Of("abc"));
  EXPECT_EQ(moved.Finish(), Sha256::Of(""));
  EXPECT_EQ(Sha256::Of("abc").size(), Sha256::kDigestBytes);
}

}  // namespace
}  // namespace framerpc::file

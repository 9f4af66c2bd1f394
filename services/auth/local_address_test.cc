#include "services/auth/local_address.h"

#include "gtest/gtest.h"

namespace framerpc::auth {
namespace {

TEST(LocalAddressTest, LoopbackAndUnixSocketsAreLocal) {
  for (const char* address : {"unix:/tmp/f.sock", "unix:@abstract", "127.0.0.1:7000",
                              "127.1.2.3:0", "[::1]:7000", "[::ffff:127.0.0.1]:7000"}) {
    EXPECT_TRUE(IsLocalOnlyAddress(address)) << address;
  }
}

TEST(LocalAddressTest, EverythingElseIsNot) {
  for (const char* address :
       {"0.0.0.0:7000", "[::]:7000", "10.0.0.1:7000", "192.168.1.1:1", "128.0.0.1:7000",
        "[2001:db8::1]:7000", "[::ffff:10.0.0.1]:7000", "localhost:7000", "[::1", "", ":7000",
        "127.0.0.1.example.com:7000"}) {
    EXPECT_FALSE(IsLocalOnlyAddress(address)) << address;
  }
}

}  // namespace
}  // namespace framerpc::auth

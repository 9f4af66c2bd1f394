#include "rpc/peer_key.h"

#include "gtest/gtest.h"

namespace framerpc {
namespace {

SocketAddress Parse(const std::string& text) { return SocketAddress::Parse(text).value(); }

PeerIdentity UnixUid(uid_t uid) {
  PeerIdentity identity;
  identity.local = true;
  identity.unix_uid = uid;
  return identity;
}

TEST(PeerKeyTest, AddressWithoutPortOrUid) {
  EXPECT_EQ(PeerKey(Parse("10.1.2.3:4567"), PeerIdentity()), "10.1.2.3");
  EXPECT_EQ(PeerKey(Parse("[::1]:80"), PeerIdentity()), "[::1]");
  EXPECT_EQ(PeerKey(Parse("unix:/tmp/s"), UnixUid(1000)), "unix uid 1000");
  EXPECT_EQ(PeerKey(Parse("unix:/tmp/s"), PeerIdentity()), "unix");
}

// What ServerContext::peer() holds on each transport gives the key the socket address gives.
TEST(PeerKeyTest, FromACallsPeerText) {
  // Framed TCP and UDP, and gRPC connections handed over on a shared port: SocketAddress text.
  EXPECT_EQ(PeerKey("10.1.2.3:4567", PeerIdentity()), "10.1.2.3");
  EXPECT_EQ(PeerKey("10.1.2.3:9999", PeerIdentity()), "10.1.2.3");
  EXPECT_EQ(PeerKey("[::1]:80", PeerIdentity()), "[::1]");
  EXPECT_EQ(PeerKey("[2001:db8::5]:80", PeerIdentity()), "[2001:db8::5]");
  // A Unix-socket peer is its uid, whatever the socket's name.
  EXPECT_EQ(PeerKey("unix:", UnixUid(7)), "unix uid 7");
  EXPECT_EQ(PeerKey("unix:/run/a.sock", UnixUid(0)), "unix uid 0");
  // gRPC's own port.
  EXPECT_EQ(PeerKey("ipv4:10.1.2.3:4567", PeerIdentity()), "10.1.2.3");
  EXPECT_EQ(PeerKey("ipv6:[::1]:80", PeerIdentity()), "[::1]");
  EXPECT_EQ(PeerKey("ipv6:%5B::1%5D:80", PeerIdentity()), "[::1]");
  EXPECT_EQ(PeerKey("ipv6:[::ffff:127.0.0.1]:80", PeerIdentity()), "[::ffff:127.0.0.1]");
  EXPECT_EQ(PeerKey("unix:/run/a.sock", PeerIdentity()), "unix");
  EXPECT_EQ(PeerKey("unix-abstract:name", PeerIdentity()), "unix");
}

TEST(PeerKeyTest, TextNamingNoAddressIsKept) {
  EXPECT_EQ(PeerKey("ipv6:[fe80::1%eth0]:80", PeerIdentity()), "[fe80::1%eth0]");
  EXPECT_EQ(PeerKey("fd:12", PeerIdentity()), "fd:12");
  EXPECT_EQ(PeerKey("somewhere", PeerIdentity()), "somewhere");
  EXPECT_EQ(PeerKey("", PeerIdentity()), "");
}

}  // namespace
}  // namespace framerpc

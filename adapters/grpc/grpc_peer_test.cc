#include "adapters/grpc/grpc_peer.h"

#include <string>

#include "gtest/gtest.h"

namespace framerpc::grpc_adapter {
namespace {

TEST(GrpcPeerIdentityTest, LoopbackAndUnixPeersAreLocal) {
  for (const char* peer : {"ipv4:127.0.0.1:5000", "ipv4:127.3.2.1:1", "ipv6:[::1]:5000",
                           "ipv6:[::ffff:127.0.0.1]:9", "unix:/tmp/x.sock", "unix:",
                           "unix-abstract:name"}) {
    EXPECT_TRUE(GrpcPeerIdentity(peer).local) << peer;
    EXPECT_FALSE(GrpcPeerIdentity(peer).unix_uid.has_value()) << peer;
  }
}

TEST(GrpcPeerIdentityTest, EverythingElseIsRemote) {
  for (const char* peer : {"ipv4:10.0.0.1:5000", "ipv4:128.0.0.1:1", "ipv6:[::]:1",
                           "ipv6:[2001:db8::1]:5", "ipv6:[::ffff:10.0.0.1]:9", "fd:7", "",
                           "ipv4:", "ipv6:[::1", "127.0.0.1:5", "garbage"}) {
    EXPECT_FALSE(GrpcPeerIdentity(peer).local) << peer;
  }
}

TEST(AdoptedPeersTest, AnAdoptedFdResolvesToWhatTheSocketShowed) {
  AdoptedPeers peers;
  PeerIdentity unix_peer;
  unix_peer.local = true;
  unix_peer.unix_uid = 1000;
  peers.Record(7, "unix:/run/f.sock", unix_peer);
  std::string address;
  PeerIdentity identity;
  peers.Resolve("fd:7", &address, &identity);
  EXPECT_EQ(address, "unix:/run/f.sock");
  EXPECT_TRUE(identity.local);
  EXPECT_EQ(identity.unix_uid, 1000u);

  // A later connection with the same fd number replaces the entry.
  PeerIdentity remote;
  peers.Record(7, "10.0.0.9:4242", remote);
  peers.Resolve("fd:7", &address, &identity);
  EXPECT_EQ(address, "10.0.0.9:4242");
  EXPECT_FALSE(identity.local);
  EXPECT_FALSE(identity.unix_uid.has_value());

  // An fd never adopted, and gRPC's own listeners' peers, are taken from the string.
  peers.Resolve("fd:8", &address, &identity);
  EXPECT_EQ(address, "fd:8");
  EXPECT_FALSE(identity.local);
  peers.Resolve("ipv4:127.0.0.1:1", &address, &identity);
  EXPECT_EQ(address, "ipv4:127.0.0.1:1");
  EXPECT_TRUE(identity.local);
}

}  // namespace
}  // namespace framerpc::grpc_adapter

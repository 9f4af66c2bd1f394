// What can be checked without an etcd: the target and --register syntax, PrefixEnd, and that an
// etcd that cannot be reached is an error, not a hang. server/etcd_test runs a real etcd.
#include "naming/etcd_naming.h"

#include "gtest/gtest.h"
#include "naming/etcd_client.h"
#include "rpc/channel.h"

namespace framerpc::naming {
namespace {

TEST(EtcdNamingTest, Targets) {
  EXPECT_TRUE(NewEtcdResolver("etcd:///echo?endpoints=127.0.0.1:2379").ok());
  EXPECT_TRUE(NewEtcdResolver("etcd:///echo?endpoints=127.0.0.1:1,127.0.0.1:2&prefix=svc").ok());
  for (const char* bad : {"etcd://x/echo?endpoints=a:1", "etcd:///echo", "etcd:///?endpoints=a:1",
                          "etcd:///a/b?endpoints=a:1", "etcd:///echo?endpoints=a:1&x=y"}) {
    EXPECT_EQ(NewEtcdResolver(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  RegisterEtcdResolver();
  EXPECT_TRUE(Channel::Create("etcd:///echo?endpoints=127.0.0.1:1").ok());
  EXPECT_EQ(Channel::Create("etcd:///echo").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(EtcdNamingTest, RegisterUrls) {
  for (const char* bad : {"http://127.0.0.1:2379/services/echo", "etcd://127.0.0.1:2379",
                          "etcd://127.0.0.1:2379/", "etcd://127.0.0.1:2379/services/"}) {
    EXPECT_EQ(EtcdRegistration::Start(bad, "127.0.0.1:7000", absl::Seconds(10)).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
  auto registration =
      EtcdRegistration::Start("etcd://127.0.0.1:1/services/echo", "127.0.0.1:7000",
                              absl::Seconds(10));
  ASSERT_TRUE(registration.ok());
  EXPECT_EQ((*registration)->key(), "services/echo/127.0.0.1:7000");
  (*registration)->Deregister();  // returns although etcd never answered
}

TEST(EtcdClientTest, PrefixEndAndAnUnreachableEtcd) {
  EXPECT_EQ(PrefixEnd("services/echo/"), "services/echo0");
  EXPECT_EQ(PrefixEnd(std::string("a\xff", 2)), "b");
  const EtcdClient client("127.0.0.1:1", absl::Seconds(2));
  EXPECT_EQ(client.Range("x/").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(client.GrantLease(absl::Seconds(5)).status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace framerpc::naming

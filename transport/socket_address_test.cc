#include "transport/socket_address.h"

#include <netinet/in.h>
#include <sys/un.h>

#include <string>

#include "gtest/gtest.h"

namespace framerpc {
namespace {

SocketAddress ParseOrDie(const std::string& text) {
  auto address = SocketAddress::Parse(text);
  EXPECT_TRUE(address.ok()) << text << ": " << address.status();
  return address.ok() ? *address : SocketAddress();
}

void ExpectInvalid(const std::string& text, const std::string& message) {
  auto address = SocketAddress::Parse(text);
  ASSERT_FALSE(address.ok()) << text << " parsed as " << address->ToString();
  EXPECT_EQ(address.status().code(), absl::StatusCode::kInvalidArgument) << text;
  EXPECT_EQ(address.status().message(), message) << text;
}

TEST(SocketAddressTest, ParsesIpv4) {
  const SocketAddress a = ParseOrDie("127.0.0.1:80");
  EXPECT_EQ(a.family(), AF_INET);
  EXPECT_EQ(a.port(), 80);
  EXPECT_EQ(a.length(), sizeof(sockaddr_in));
  EXPECT_FALSE(a.is_unix());
  EXPECT_EQ(a.ToString(), "127.0.0.1:80");
}

TEST(SocketAddressTest, ParsesIpv6) {
  const SocketAddress a = ParseOrDie("[::1]:0");
  EXPECT_EQ(a.family(), AF_INET6);
  EXPECT_EQ(a.port(), 0);
  EXPECT_EQ(a.length(), sizeof(sockaddr_in6));
  EXPECT_EQ(a.ToString(), "[::1]:0");
  EXPECT_EQ(ParseOrDie("[2001:db8::7]:65535").ToString(), "[2001:db8::7]:65535");
}

TEST(SocketAddressTest, LocalhostIsNumericLoopback) {
  const SocketAddress a = ParseOrDie("localhost:1");
  EXPECT_EQ(a.family(), AF_INET);
  EXPECT_EQ(a.port(), 1);
  EXPECT_EQ(a.ToString(), "127.0.0.1:1");
}

TEST(SocketAddressTest, EmptyHostIsAnyAddress) {
  const SocketAddress a = ParseOrDie(":8080");
  EXPECT_EQ(a.family(), AF_INET);
  EXPECT_EQ(a.port(), 8080);
  EXPECT_EQ(a.ToString(), "0.0.0.0:8080");
  EXPECT_FALSE(a.is_loopback());
}

TEST(SocketAddressTest, ParsesUnixPath) {
  const SocketAddress a = ParseOrDie("unix:/tmp/x.sock");
  EXPECT_TRUE(a.is_unix());
  EXPECT_EQ(a.family(), AF_UNIX);
  EXPECT_EQ(a.port(), 0);
  EXPECT_EQ(a.length(), offsetof(sockaddr_un, sun_path) + sizeof("/tmp/x.sock"));
  EXPECT_EQ(a.ToString(), "unix:/tmp/x.sock");
  const auto* un = reinterpret_cast<const sockaddr_un*>(a.sockaddr_ptr());
  EXPECT_STREQ(un->sun_path, "/tmp/x.sock");
}

TEST(SocketAddressTest, LongestUnixPathIsAccepted) {
  const std::string path = "/" + std::string(sizeof(sockaddr_un{}.sun_path) - 2, 'p');
  ASSERT_EQ(path.size(), 107u);
  EXPECT_EQ(ParseOrDie("unix:" + path).ToString(), "unix:" + path);
}

TEST(SocketAddressTest, ParsesAbstractUnixName) {
  const SocketAddress a = ParseOrDie("unix:@framerpc-test");
  EXPECT_TRUE(a.is_unix());
  EXPECT_TRUE(a.is_abstract_unix());
  EXPECT_TRUE(a.is_loopback());
  // The kernel reads an abstract name from the address length: the leading NUL, then the name.
  EXPECT_EQ(a.length(), offsetof(sockaddr_un, sun_path) + 1 + std::string("framerpc-test").size());
  const auto* un = reinterpret_cast<const sockaddr_un*>(a.sockaddr_ptr());
  EXPECT_EQ(un->sun_path[0], '\0');
  EXPECT_EQ(std::string(un->sun_path + 1, 13), "framerpc-test");
  EXPECT_EQ(a.ToString(), "unix:@framerpc-test");
  EXPECT_FALSE(ParseOrDie("unix:/tmp/@x").is_abstract_unix());
  EXPECT_FALSE(ParseOrDie("127.0.0.1:1").is_abstract_unix());
}

TEST(SocketAddressTest, LongestAbstractNameIsAccepted) {
  const std::string name(sizeof(sockaddr_un{}.sun_path) - 1, 'n');
  EXPECT_EQ(ParseOrDie("unix:@" + name).ToString(), "unix:@" + name);
  ExpectInvalid("unix:@" + name + "n",
                "abstract unix socket name must be 1 to 107 bytes: 'unix:@" + name + "n'");
}

TEST(SocketAddressTest, Errors) {
  ExpectInvalid("nope", "address 'nope' is not host:port, [v6]:port or unix:/path");
  ExpectInvalid("1.2.3.4:99999", "bad port in address '1.2.3.4:99999'");
  ExpectInvalid("1.2.3.4:-1", "bad port in address '1.2.3.4:-1'");
  ExpectInvalid("1.2.3.4:", "bad port in address '1.2.3.4:'");
  ExpectInvalid("1.2.3.4:http", "bad port in address '1.2.3.4:http'");
  // No closing bracket: the last colon splits "[:" from "1", and "[:" is not an IPv4 address.
  ExpectInvalid("[::1", "unterminated '[' in address '[::1'");
  ExpectInvalid("[::1]", "missing ':port' after ']' in '[::1]'");
  ExpectInvalid("127.0.0.1: 80", "bad port in address '127.0.0.1: 80'");
  ExpectInvalid("127.0.0.1:+80", "bad port in address '127.0.0.1:+80'");
  ExpectInvalid("[zz::1]:1", "bad IPv6 address in '[zz::1]:1'");
  ExpectInvalid("::1:80", "bad IPv4 address in '::1:80'");
  ExpectInvalid("example.com:80", "bad IPv4 address in 'example.com:80'");
  ExpectInvalid("256.0.0.1:80", "bad IPv4 address in '256.0.0.1:80'");
  ExpectInvalid("unix:", "unix socket path must be 1 to 107 bytes: 'unix:'");
  ExpectInvalid("unix:@", "abstract unix socket name must be 1 to 107 bytes: 'unix:@'");
  const std::string with_nul("unix:/a\0b", 9);
  ExpectInvalid(with_nul, "unix socket address contains a NUL byte: '" + with_nul + "'");
  const std::string too_long = "unix:/" + std::string(107, 'p');
  ExpectInvalid(too_long, "unix socket path must be 1 to 107 bytes: '" + too_long + "'");
}

TEST(SocketAddressTest, ToStringRoundTrips) {
  for (const char* text : {"127.0.0.1:80", "0.0.0.0:0", "10.1.2.3:65535", "[::1]:0",
                           "[::]:7000", "[fe80::1:2]:9", "unix:/tmp/x.sock", "unix:rel/path",
                           "unix:@abstract", "unix:@with/slash and space"}) {
    const SocketAddress a = ParseOrDie(text);
    EXPECT_EQ(a.ToString(), text);
    const SocketAddress b = ParseOrDie(a.ToString());
    EXPECT_EQ(b.ToString(), text);
    EXPECT_EQ(b.length(), a.length());
  }
}

TEST(SocketAddressTest, FromSockaddrCopiesWhatItIsGiven) {
  const SocketAddress a = ParseOrDie("[::1]:4242");
  const SocketAddress b = SocketAddress::FromSockaddr(a.sockaddr_ptr(), a.length());
  EXPECT_EQ(b.family(), AF_INET6);
  EXPECT_EQ(b.port(), 4242);
  EXPECT_EQ(b.ToString(), "[::1]:4242");

  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(9);
  in.sin_addr.s_addr = htonl(0x0a000001);
  const SocketAddress c =
      SocketAddress::FromSockaddr(reinterpret_cast<const sockaddr*>(&in), sizeof(in));
  EXPECT_EQ(c.ToString(), "10.0.0.1:9");

  // An unnamed Unix socket (a socketpair end, or an accepted client) has only the family.
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  const SocketAddress d =
      SocketAddress::FromSockaddr(reinterpret_cast<const sockaddr*>(&un), sizeof(sa_family_t));
  EXPECT_TRUE(d.is_unix());
  EXPECT_EQ(d.ToString(), "unix:");
}

TEST(SocketAddressTest, IsLoopback) {
  EXPECT_TRUE(ParseOrDie("127.0.0.1:1").is_loopback());
  EXPECT_TRUE(ParseOrDie("127.255.3.4:1").is_loopback());
  EXPECT_TRUE(ParseOrDie("localhost:1").is_loopback());
  EXPECT_TRUE(ParseOrDie("[::1]:1").is_loopback());
  EXPECT_TRUE(ParseOrDie("unix:/tmp/x.sock").is_loopback());
  EXPECT_FALSE(ParseOrDie("10.0.0.1:1").is_loopback());
  EXPECT_FALSE(ParseOrDie("128.0.0.1:1").is_loopback());
  EXPECT_FALSE(ParseOrDie("[::]:1").is_loopback());
  EXPECT_FALSE(ParseOrDie("[2001:db8::1]:1").is_loopback());
}

}  // namespace
}  // namespace framerpc

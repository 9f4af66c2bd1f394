#include "services/auth/access_policy.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace framerpc::auth {
namespace {

constexpr char kToken[] = "0123456789abcdef-token";

SharedSecret Token() { return SharedSecret::FromToken(kToken).value(); }

CallCredentials Remote(const std::string* authorization = nullptr) {
  CallCredentials call;
  call.authorization = authorization;
  return call;
}

CallCredentials Loopback(const std::string* authorization = nullptr) {
  CallCredentials call = Remote(authorization);
  call.local_peer = true;
  return call;
}

CallCredentials UnixPeer(uid_t uid, const std::string* authorization = nullptr) {
  CallCredentials call = Loopback(authorization);
  call.unix_uid = uid;
  return call;
}

TEST(AccessPolicyTest, DefaultAdmitsNobodyNotEvenLocalRoot) {
  AccessPolicy policy;
  policy.set_subject("the command service");
  EXPECT_FALSE(policy.admits_anyone());
  EXPECT_EQ(policy.Describe(), "nobody");
  for (const CallCredentials& call : {Remote(), Loopback(), UnixPeer(0)}) {
    absl::Status status = policy.Check(call);
    EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
    EXPECT_EQ(status.message(), "the command service admits no calls on this server");
  }
}

TEST(AccessPolicyTest, OpenAdmitsEveryone) {
  const AccessPolicy policy = AccessPolicy::Open();
  EXPECT_EQ(policy.Describe(), "anyone");
  const std::string wrong = "Bearer nope";
  for (const CallCredentials& call : {Remote(), Loopback(), UnixPeer(65534), Remote(&wrong)}) {
    EXPECT_TRUE(policy.Check(call).ok());
  }
}

// The attack that worked before: any local user reaching 127.0.0.1 ran commands as the server's
// user with no token. Local is no credential unless the operator says so.
TEST(AccessPolicyTest, LoopbackIsNoCredentialByItself) {
  AccessPolicy policy;
  policy.set_subject("the command service").AcceptToken(Token());
  absl::Status status = policy.Check(Loopback());
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(status.message(),
            "the command service needs a credential: a bearer token ('authorization: Bearer "
            "<token>' metadata)");
  // Nor is a Unix socket with an unlisted uid (nobody's, 65534).
  EXPECT_EQ(policy.Check(UnixPeer(65534)).code(), absl::StatusCode::kUnauthenticated);
}

TEST(AccessPolicyTest, TheTokenIsChecked) {
  AccessPolicy policy;
  policy.AcceptToken(Token());
  const std::string right = AuthorizationValue(kToken);
  const std::string wrong = AuthorizationValue("0123456789abcdef-tokex");
  const std::string bad_scheme = std::string("Basic ") + kToken;
  EXPECT_TRUE(policy.Check(Remote(&right)).ok());
  EXPECT_TRUE(policy.Check(Loopback(&right)).ok());
  for (const std::string* presented : {&wrong, &bad_scheme}) {
    absl::Status status = policy.Check(Remote(presented));
    EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
    EXPECT_EQ(status.message().find(kToken), absl::string_view::npos) << "leaks the token";
  }
}

TEST(AccessPolicyTest, UnixPeersAreAdmittedByUid) {
  AccessPolicy policy;
  policy.set_subject("writes").AcceptUnixUids({0, 1000});
  EXPECT_EQ(policy.Describe(), "a Unix-socket peer with uid 0 or 1000");
  EXPECT_TRUE(policy.Check(UnixPeer(0)).ok());
  EXPECT_TRUE(policy.Check(UnixPeer(1000)).ok());
  absl::Status status = policy.Check(UnixPeer(65534));
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(status.message(),
            "writes: peer uid 65534 is not allowed; writes accepts a Unix-socket peer with uid 0 "
            "or 1000");
  // A TCP peer has no uid, whatever it is on the other end.
  EXPECT_EQ(policy.Check(Loopback()).code(), absl::StatusCode::kUnauthenticated);
}

TEST(AccessPolicyTest, APresentedTokenDecidesAlone) {
  AccessPolicy policy;
  policy.AcceptToken(Token()).AcceptUnixUids({0}).TrustLocalPeers();
  const std::string wrong = AuthorizationValue("0123456789abcdef-tokex");
  // Root on a Unix socket, and any local peer, would be admitted without it; a wrong token is
  // still refused.
  EXPECT_TRUE(policy.Check(UnixPeer(0)).ok());
  EXPECT_TRUE(policy.Check(Loopback()).ok());
  EXPECT_EQ(policy.Check(UnixPeer(0, &wrong)).code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(policy.Check(Loopback(&wrong)).code(), absl::StatusCode::kUnauthenticated);
}

TEST(AccessPolicyTest, TrustingLocalPeersAdmitsThemAndNoOneElse) {
  AccessPolicy policy;
  policy.TrustLocalPeers();
  EXPECT_EQ(policy.Describe(), "any peer on this host (loopback or Unix socket)");
  EXPECT_TRUE(policy.Check(Loopback()).ok());
  EXPECT_TRUE(policy.Check(UnixPeer(65534)).ok());
  EXPECT_EQ(policy.Check(Remote()).code(), absl::StatusCode::kUnauthenticated);
}

// A remote TLS client whose verified certificate names `uri` (and `dns`, when given).
struct CertifiedClient {
  std::vector<std::string> uris;
  std::vector<std::string> dns;
  CallCredentials call() const {
    CallCredentials c = Remote();
    c.tls_uri_sans = &uris;
    c.tls_dns_sans = &dns;
    return c;
  }
};

TEST(AccessPolicyTest, TlsClientIdentitiesAreAdmittedByName) {
  AccessPolicy policy;
  policy.set_subject("the command service")
      .AcceptTlsIdentities({"spiffe://example.org/ns/prod/sa/deploy", "ops.example.org"});
  EXPECT_TRUE(policy.Check(CertifiedClient{{"spiffe://example.org/ns/prod/sa/deploy"}, {}}.call())
                  .ok());
  EXPECT_TRUE(policy.Check(CertifiedClient{{}, {"ops.example.org"}}.call()).ok());
  // Another identity of the same CA is refused, naming what it is and what would do.
  absl::Status other =
      policy.Check(CertifiedClient{{"spiffe://example.org/ns/prod/sa/billing"}, {}}.call());
  EXPECT_EQ(other.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(other.message(),
            "the command service: client identity spiffe://example.org/ns/prod/sa/billing is not "
            "allowed; the command service accepts a TLS client certificate naming "
            "ops.example.org or spiffe://example.org/ns/prod/sa/deploy");
  // Matched exactly: no prefix, no case folding, no wildcard.
  EXPECT_FALSE(policy.Check(CertifiedClient{{"spiffe://example.org/ns/prod/sa/deploy/x"}, {}}
                                .call()).ok());
  EXPECT_FALSE(policy.Check(CertifiedClient{{}, {"OPS.example.org"}}.call()).ok());
  // Without a certificate: a credential is needed.
  EXPECT_EQ(policy.Check(Remote()).code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(policy.Check(Loopback()).code(), absl::StatusCode::kUnauthenticated);
}

TEST(AccessPolicyTest, ACertificateIsNoCredentialUnlessItsIdentityIsListed) {
  AccessPolicy policy;
  policy.AcceptToken(Token());
  absl::Status status =
      policy.Check(CertifiedClient{{"spiffe://example.org/ns/prod/sa/deploy"}, {}}.call());
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
}

TEST(AccessPolicyTest, DescribeListsEveryCredential) {
  AccessPolicy policy;
  policy.AcceptToken(Token()).AcceptUnixUids({1000}).TrustLocalPeers();
  EXPECT_EQ(policy.Describe(),
            "a bearer token ('authorization: Bearer <token>' metadata), a Unix-socket peer with "
            "uid 1000 or any peer on this host (loopback or Unix socket)");
}

// Every refusal, and nothing else, reaches the observer, with the peer and the reason; a wrong
// token presented is never part of it.
TEST(AccessPolicyTest, RefusalsAreToldToTheObserver) {
  struct Recorder final : RefusalObserver {
    void OnRefusal(RefusalKind kind, absl::string_view peer, absl::string_view reason) override {
      lines.push_back(std::string(RefusalKindName(kind)) + " " + std::string(peer) + " " +
                      std::string(reason));
    }
    std::vector<std::string> lines;
  } recorder;
  AccessPolicy policy;
  policy.set_subject("the file service").AcceptToken(Token()).set_refusal_observer(&recorder);
  const std::string right = AuthorizationValue(kToken);
  const std::string wrong = AuthorizationValue("0123456789abcdef-tokex");
  CallCredentials call = Remote(&right);
  call.peer = "10.0.0.7:4000";
  EXPECT_TRUE(policy.Check(call).ok());
  call.authorization = &wrong;
  EXPECT_FALSE(policy.Check(call).ok());
  call.authorization = nullptr;
  EXPECT_FALSE(policy.Check(call).ok());
  ASSERT_EQ(recorder.lines.size(), 2u);
  EXPECT_EQ(recorder.lines[0].rfind("policy 10.0.0.7:4000 UNAUTHENTICATED: the file service: ", 0),
            0u)
      << recorder.lines[0];
  EXPECT_EQ(recorder.lines[0].find("tokex"), std::string::npos) << recorder.lines[0];
  EXPECT_EQ(recorder.lines[1],
            "policy 10.0.0.7:4000 UNAUTHENTICATED: the file service needs a credential: a bearer "
            "token ('authorization: Bearer <token>' metadata)");
}

}  // namespace
}  // namespace framerpc::auth

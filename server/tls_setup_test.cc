#include "server/tls_setup.h"

#include "gtest/gtest.h"
#include "transport/tls/test_pki.h"

namespace framerpc::server {
namespace {

class TlsSetupTest : public ::testing::Test {
 protected:
  TlsSetupTest() : dir_(TestPkiDir("tls_setup")), ca_(dir_, "ca") {
    TestCertSpec spec;
    spec.dns = {"localhost"};
    cert_ = ca_.Issue("server", spec);
  }
  TlsFlags Flags() {
    TlsFlags flags;
    flags.cert = cert_.cert;
    flags.key = cert_.key;
    return flags;
  }
  std::string dir_;
  TestCa ca_;
  TestCertFiles cert_;
};

TEST_F(TlsSetupTest, NoCertificateMeansNoTls) {
  absl::StatusOr<TlsSetup> setup = BuildTlsSetup({});
  ASSERT_TRUE(setup.ok()) << setup.status();
  EXPECT_EQ(setup->context, nullptr);
  EXPECT_EQ(setup->listeners, Server::ListenerTls::kOff);
  EXPECT_EQ(setup->description, "off");
}

TEST_F(TlsSetupTest, ACertificateMakesTheListenersTlsOnly) {
  absl::StatusOr<TlsSetup> setup = BuildTlsSetup(Flags());
  ASSERT_TRUE(setup.ok()) << setup.status();
  EXPECT_NE(setup->context, nullptr);
  EXPECT_EQ(setup->listeners, Server::ListenerTls::kRequired);
  EXPECT_EQ(setup->description, "TLS only, TLS 1.3+, client certificates not asked for");

  TlsFlags shared = Flags();
  shared.shared_port = true;
  shared.client_auth = "require";
  shared.client_ca = ca_.cert_file();
  setup = BuildTlsSetup(shared);
  ASSERT_TRUE(setup.ok()) << setup.status();
  EXPECT_EQ(setup->listeners, Server::ListenerTls::kOptional);
  EXPECT_EQ(setup->client_auth, ClientAuth::kRequire);
  EXPECT_EQ(setup->description, "TLS and plaintext on the same ports, TLS 1.3+, client "
                                "certificates required (CA " + ca_.cert_file() + ")");
}

TEST_F(TlsSetupTest, BadFlagsAreNamed) {
  TlsFlags flags = Flags();
  flags.client_auth = "sometimes";
  EXPECT_EQ(BuildTlsSetup(flags).status().message(),
            "--tls_client_auth: client auth 'sometimes': expected none, optional or require");
  flags = Flags();
  flags.min_version = "1.1";
  EXPECT_EQ(BuildTlsSetup(flags).status().message(),
            "--tls_min_version: TLS version '1.1': expected 1.2 or 1.3");
  flags = Flags();
  flags.client_auth = "require";
  EXPECT_EQ(BuildTlsSetup(flags).status().message(), "--tls_client_auth=require needs --tls_client_ca");
  flags = Flags();
  flags.key.clear();
  EXPECT_EQ(BuildTlsSetup(flags).status().message(), "--tls_cert needs --tls_key");
  TlsFlags no_cert;
  no_cert.key = cert_.key;
  EXPECT_EQ(BuildTlsSetup(no_cert).status().code(), absl::StatusCode::kInvalidArgument);
  flags = Flags();
  flags.key = dir_ + "/missing.key";
  absl::Status missing = BuildTlsSetup(flags).status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(missing.message().find("missing.key"), absl::string_view::npos) << missing;
}

TEST_F(TlsSetupTest, IdentitiesNeedListenersThatAskForCertificates) {
  auth::AccessPolicy identities;
  identities.AcceptTlsIdentities({"spiffe://example.org/deploy"});
  absl::StatusOr<TlsSetup> no_auth = BuildTlsSetup(Flags());
  ASSERT_TRUE(no_auth.ok());
  absl::Status refused = CheckIdentitiesAreVerified(identities, *no_auth, "the command service",
                                                    "--command_allow_identities");
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.message(),
            "the command service admits TLS client identities (--command_allow_identities), but "
            "no listener asks for client certificates: give --tls_cert, --tls_key, "
            "--tls_client_ca and --tls_client_auth=require (or optional)");
  EXPECT_FALSE(CheckIdentitiesAreVerified(identities, TlsSetup{}, "x", "y").ok());
  TlsFlags mutual = Flags();
  mutual.client_auth = "require";
  mutual.client_ca = ca_.cert_file();
  absl::StatusOr<TlsSetup> with_auth = BuildTlsSetup(mutual);
  ASSERT_TRUE(with_auth.ok());
  EXPECT_TRUE(CheckIdentitiesAreVerified(identities, *with_auth, "x", "y").ok());
  EXPECT_TRUE(CheckIdentitiesAreVerified(auth::AccessPolicy(), *no_auth, "x", "y").ok());
}

}  // namespace
}  // namespace framerpc::server

// TestPki: certificate authorities and certificates made at run time for tests (P-256 keys,
// signed with SHA-256), written as PEM files into a directory of the test's. No key is ever
// committed and nothing expires in the repository. Test-only.
//
// Thread safety: none.
#ifndef FRAMERPC_TRANSPORT_TLS_TEST_PKI_H_
#define FRAMERPC_TRANSPORT_TLS_TEST_PKI_H_

#include <string>
#include <vector>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "absl/time/time.h"

namespace framerpc {

// Paths of a certificate and its key.
struct TestCertFiles {
  std::string cert;
  std::string key;
};

struct TestCertSpec {
  std::string common_name = "test";
  // Subject alternative names, in OpenSSL's config syntax without the type: "localhost".
  std::vector<std::string> dns;
  std::vector<std::string> ips;
  std::vector<std::string> uris;
  // Validity relative to now.
  absl::Duration not_before = -absl::Hours(1);
  absl::Duration not_after = absl::Hours(24);
};

class TestCa {
 public:
  // A self-signed CA named `name`, its files written into `dir` as <name>-ca.pem / -ca.key.
  TestCa(std::string dir, std::string name);
  ~TestCa();
  TestCa(const TestCa&) = delete;
  TestCa& operator=(const TestCa&) = delete;

  // A leaf certificate for `spec`, signed by this CA, written as <file_stem>.pem / .key. Usable
  // by servers and clients both.
  TestCertFiles Issue(const std::string& file_stem, const TestCertSpec& spec);
  const std::string& cert_file() const { return files_.cert; }

 private:
  std::string dir_;
  std::string name_;
  EVP_PKEY* key_ = nullptr;
  X509* cert_ = nullptr;
  TestCertFiles files_;
};

// A directory for the test's files: $TEST_TMPDIR/<name> (made if missing).
std::string TestPkiDir(const std::string& name);

}  // namespace framerpc

#endif  // FRAMERPC_TRANSPORT_TLS_TEST_PKI_H_

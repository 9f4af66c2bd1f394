#include "transport/tls/test_pki.h"

#include <sys/stat.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace framerpc {
namespace {

std::atomic<int64_t> next_serial{1};

EVP_PKEY* NewKey() { return EVP_EC_gen("P-256"); }

void AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) std::abort();  // a test's own mistake
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

X509* NewCert(EVP_PKEY* key, const std::string& cn, absl::Duration not_before,
              absl::Duration not_after) {
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set_int64(X509_get_serialNumber(cert), next_serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert), absl::ToInt64Seconds(not_before));
  X509_gmtime_adj(X509_getm_notAfter(cert), absl::ToInt64Seconds(not_after));
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("framerpc test"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  return cert;
}

void WritePem(const std::string& path, X509* cert, EVP_PKEY* key) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) std::abort();
  if (cert != nullptr) PEM_write_X509(f, cert);
  if (key != nullptr) PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
}

}  // namespace

std::string TestPkiDir(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  std::string dir = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/", name);
  ::mkdir(dir.c_str(), 0700);
  return dir;
}

TestCa::TestCa(std::string dir, std::string name) : dir_(std::move(dir)), name_(std::move(name)) {
  key_ = NewKey();
  cert_ = NewCert(key_, name_ + " CA", -absl::Hours(1), absl::Hours(48));
  X509_set_issuer_name(cert_, X509_get_subject_name(cert_));
  AddExtension(cert_, cert_, NID_basic_constraints, "critical,CA:TRUE");
  AddExtension(cert_, cert_, NID_key_usage, "critical,keyCertSign,cRLSign");
  AddExtension(cert_, cert_, NID_subject_key_identifier, "hash");
  X509_sign(cert_, key_, EVP_sha256());
  files_.cert = absl::StrCat(dir_, "/", name_, "-ca.pem");
  files_.key = absl::StrCat(dir_, "/", name_, "-ca.key");
  WritePem(files_.cert, cert_, nullptr);
  WritePem(files_.key, nullptr, key_);
}

TestCa::~TestCa() {
  X509_free(cert_);
  EVP_PKEY_free(key_);
}

TestCertFiles TestCa::Issue(const std::string& file_stem, const TestCertSpec& spec) {
  EVP_PKEY* key = NewKey();
  X509* cert = NewCert(key, spec.common_name, spec.not_before, spec.not_after);
  X509_set_issuer_name(cert, X509_get_subject_name(cert_));
  AddExtension(cert, cert_, NID_basic_constraints, "critical,CA:FALSE");
  AddExtension(cert, cert_, NID_ext_key_usage, "serverAuth,clientAuth");
  AddExtension(cert, cert_, NID_authority_key_identifier, "keyid");
  std::vector<std::string> sans;
  for (const std::string& d : spec.dns) sans.push_back("DNS:" + d);
  for (const std::string& ip : spec.ips) sans.push_back("IP:" + ip);
  for (const std::string& u : spec.uris) sans.push_back("URI:" + u);
  if (!sans.empty()) AddExtension(cert, cert_, NID_subject_alt_name, absl::StrJoin(sans, ","));
  X509_sign(cert, key_, EVP_sha256());
  TestCertFiles files{absl::StrCat(dir_, "/", file_stem, ".pem"),
                      absl::StrCat(dir_, "/", file_stem, ".key")};
  WritePem(files.cert, cert, nullptr);
  WritePem(files.key, nullptr, key);
  X509_free(cert);
  EVP_PKEY_free(key);
  return files;
}

}  // namespace framerpc

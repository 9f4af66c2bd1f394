// framerpc_cli download and upload, run in-process against a real server with the file service
// on 127.0.0.1:0.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cli/cli.h"
#include "cli/known_services.h"
#include "cli/method_registry.h"
#include "gtest/gtest.h"
#include "rpc/server.h"
#include "services/file/checksum.h"
#include "services/file/file_service.h"

namespace framerpc::cli {
namespace {

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string Content(size_t size) {
  std::string content(size, '\0');
  for (size_t i = 0; i < size; ++i) content[i] = static_cast<char>(i * 7 + i / 251);
  return content;
}

class TransferCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = ::getenv("TEST_TMPDIR");
    std::string pattern = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/cli_files_XXXXXX");
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    base_ = pattern;
    root_ = base_ + "/root";
    ASSERT_EQ(::mkdir(root_.c_str(), 0755), 0);
    file::FileServiceOptions options;
    options.root.writable = true;
    options.write_access = auth::AccessPolicy::Open();  // a test server on loopback
    options.chunk_bytes = file::kMinChunkBytes;
    auto service = file::FileServiceImpl::Create(root_, options);
    ASSERT_TRUE(service.ok()) << service.status();
    service_ = *std::move(service);
    ServerOptions server_options;
    server_options.io_threads = 1;
    server_ = std::make_unique<Server>(server_options);
    ASSERT_TRUE(server_->AddService(service_.get(), ServiceOptions{.run_inline = false}).ok());
    ASSERT_TRUE(server_->AddListener("127.0.0.1:0").ok());
    ASSERT_TRUE(server_->Start().ok());
    address_ = server_->listen_address(0);
  }

  // Runs framerpc_cli with `args`; returns the exit code and fills out_ and err_.
  int Run(const std::vector<std::string>& args, const CliOptions& options = {}) {
    std::istringstream in;
    std::ostringstream out, err;
    const int code = RunCli(options, registry_, args, in, out, err);
    out_ = out.str();
    err_ = err.str();
    return code;
  }

  std::string base_, root_, address_;
  std::unique_ptr<file::FileServiceImpl> service_;
  std::unique_ptr<Server> server_;
  const MethodRegistry registry_{KnownServiceFiles()};
  std::string out_, err_;
};

// XXH3-128 by default, SHA-256 with --checksum=sha256: each named with its digest as
// xxh128sum / sha256sum print it.
TEST_F(TransferCommandsTest, UploadThenDownloadRoundTripsInEachChecksum) {
  const std::string content = Content(3 * file::kMinChunkBytes + 11);
  WriteFile(base_ + "/in.bin", content);
  for (const char* flag : {"", "xxh3", "sha256"}) {
    SCOPED_TRACE(flag);
    CliOptions options;
    if (*flag != '\0') options.transfer.checksum = flag;
    const file::HashAlgorithm algorithm =
        std::string(flag) == "sha256" ? file::HashAlgorithm::kSha256 : file::HashAlgorithm::kXxh128;
    const std::string named = absl::StrCat(file::AlgorithmName(algorithm), " ",
                                           file::DigestToHex(file::Hasher::Of(algorithm, content)));

    ASSERT_EQ(Run({"upload", address_, base_ + "/in.bin", "stored.bin"}, options), 0) << err_;
    EXPECT_EQ(out_, absl::StrCat("uploaded '", base_, "/in.bin' to 'stored.bin': ", content.size(),
                                 " bytes, ", named, " verified by the server\n"));
    EXPECT_EQ(err_, "");  // not a terminal: no progress bar
    EXPECT_TRUE(ReadFile(root_ + "/stored.bin") == content);

    ASSERT_EQ(Run({"download", address_, "stored.bin", base_ + "/out.bin"}, options), 0) << err_;
    EXPECT_EQ(out_,
              absl::StrCat("downloaded 'stored.bin' to '", base_, "/out.bin': ", content.size(),
                           " bytes, ", content.size(), " in all, ", named, " verified\n"));
    EXPECT_TRUE(ReadFile(base_ + "/out.bin") == content);
    ASSERT_EQ(::unlink((root_ + "/stored.bin").c_str()), 0);
  }
}

TEST_F(TransferCommandsTest, AnUnknownChecksumIsRefusedBeforeConnecting) {
  WriteFile(base_ + "/in.bin", "data");
  CliOptions options;
  options.transfer.checksum = "md5";
  // Usage errors exit 1, with the flag's values named; nothing moves.
  EXPECT_EQ(Run({"upload", address_, base_ + "/in.bin", "x.bin"}, options), 1);
  EXPECT_EQ(err_, "ERROR: INVALID_ARGUMENT: --checksum must be xxh3 or sha256, not 'md5'\n");
  EXPECT_EQ(Run({"download", "127.0.0.1:1", "x.bin", base_ + "/out.bin"}, options), 1);
  EXPECT_EQ(err_, "ERROR: INVALID_ARGUMENT: --checksum must be xxh3 or sha256, not 'md5'\n");
  EXPECT_NE(::access((root_ + "/x.bin").c_str(), F_OK), 0);
  EXPECT_NE(::access((base_ + "/out.bin").c_str(), F_OK), 0);
  options.transfer.checksum = "SHA256";  // the values are exact
  EXPECT_EQ(Run({"upload", address_, base_ + "/in.bin", "x.bin"}, options), 1);
  EXPECT_EQ(err_, "ERROR: INVALID_ARGUMENT: --checksum must be xxh3 or sha256, not 'SHA256'\n");
}

TEST_F(TransferCommandsTest, ContinueFetchesOnlyTheRest) {
  const std::string content = Content(2 * file::kMinChunkBytes);
  WriteFile(root_ + "/f.bin", content);
  WriteFile(base_ + "/part.bin", content.substr(0, 1000));
  CliOptions options;
  options.transfer.resume = true;
  ASSERT_EQ(Run({"download", address_, "f.bin", base_ + "/part.bin"}, options), 0) << err_;
  EXPECT_TRUE(absl::StrContains(
      out_, absl::StrCat(content.size() - 1000, " bytes after the 1000 already there")))
      << out_;
  EXPECT_TRUE(ReadFile(base_ + "/part.bin") == content);
}

TEST_F(TransferCommandsTest, ProgressBarOnlyWhenAsked) {
  WriteFile(root_ + "/f.bin", Content(5 * file::kMinChunkBytes));
  CliOptions options;
  options.transfer.progress = true;
  ASSERT_EQ(Run({"download", address_, "f.bin", base_ + "/out.bin"}, options), 0) << err_;
  EXPECT_TRUE(absl::StartsWith(err_, "\rf.bin  ")) << err_;
  EXPECT_TRUE(absl::StrContains(err_, "320.0 KiB / 320.0 KiB  100%")) << err_;
  EXPECT_TRUE(absl::EndsWith(err_, "\n"));
  ASSERT_EQ(Run({"upload", address_, base_ + "/out.bin", "copy.bin"}, options), 0) << err_;
  EXPECT_TRUE(absl::StrContains(err_, "100%")) << err_;
}

TEST_F(TransferCommandsTest, ErrorsExitWithTheirCode) {
  EXPECT_EQ(Run({"download", address_, "missing.bin", base_ + "/out.bin"}), 64 + 5);
  EXPECT_TRUE(absl::StartsWith(err_, "ERROR: NOT_FOUND: ")) << err_;
  EXPECT_NE(::access((base_ + "/out.bin").c_str(), F_OK), 0);  // nothing created

  EXPECT_EQ(Run({"download", address_, "../escape", base_ + "/out.bin"}), 64 + 3);
  EXPECT_TRUE(absl::StrContains(err_, "escapes the root")) << err_;

  WriteFile(root_ + "/exists.bin", "old");
  WriteFile(base_ + "/new.bin", "new");
  EXPECT_EQ(Run({"upload", address_, base_ + "/new.bin", "exists.bin"}), 64 + 6);
  EXPECT_TRUE(absl::StrContains(err_, "upload with overwrite")) << err_;
  CliOptions overwrite;
  overwrite.transfer.overwrite = true;
  EXPECT_EQ(Run({"upload", address_, base_ + "/new.bin", "exists.bin"}, overwrite), 0) << err_;
  EXPECT_EQ(ReadFile(root_ + "/exists.bin"), "new");

  ASSERT_EQ(::symlink((root_ + "/exists.bin").c_str(), (base_ + "/link").c_str()), 0);
  // The local file's own failure: 1, not the server's 64 + code.
  EXPECT_EQ(Run({"download", address_, "exists.bin", base_ + "/link"}), 1);
  EXPECT_TRUE(absl::StrContains(err_, "is a symlink")) << err_;

  EXPECT_EQ(Run({"download", address_, "exists.bin"}), 1);
  EXPECT_TRUE(absl::StrContains(err_, "usage: download ADDR REMOTE_PATH LOCAL_PATH")) << err_;
  EXPECT_EQ(Run({"upload", address_, base_ + "/no_such_file", "x.bin"}), 1);
  EXPECT_TRUE(absl::StrContains(err_, "cannot open")) << err_;
  CliOptions with_address;
  with_address.address = address_;
  EXPECT_EQ(Run({"download", "exists.bin", base_ + "/via_flag"}, with_address), 0) << err_;
  EXPECT_EQ(ReadFile(base_ + "/via_flag"), "new");
}

}  // namespace
}  // namespace framerpc::cli

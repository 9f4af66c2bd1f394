#include "server/file_setup.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace framerpc::server {
namespace {

TEST(FileSetupTest, DefaultsAreTheServiceDefaults) {
  auto options = BuildFileServiceOptions(FileServiceFlags{});
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_FALSE(options->root.writable);
  EXPECT_EQ(options->chunk_bytes, file::FileServiceOptions().chunk_bytes);
  EXPECT_EQ(options->max_upload_bytes, file::FileServiceOptions().max_upload_bytes);
  EXPECT_EQ(options->max_transfers, file::FileServiceOptions().max_transfers);
  EXPECT_EQ(options->max_transfers_per_peer, file::FileServiceOptions().max_transfers_per_peer);
  EXPECT_EQ(options->digest_cache.max_entries, file::FileServiceOptions().digest_cache.max_entries);
  EXPECT_TRUE(options->read_access.is_open());
  EXPECT_FALSE(options->write_access.admits_anyone());
  EXPECT_FALSE(options->files_are_public);
  EXPECT_FALSE(options->root.refuse_hard_links_and_mounts.has_value());  // RootDir's default
}

// The attack that worked: any local user reaching 127.0.0.1 wrote files as the server's user, as
// a writable service needed no token on loopback. Now writes need a credential, or it does not
// start.
TEST(FileSetupTest, AWritableServiceWithoutACredentialIsRefused) {
  FileServiceFlags flags;
  flags.writable = true;
  absl::Status status = BuildFileServiceOptions(flags).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find("--file_allow_uids"), absl::string_view::npos) << status;
  flags.credentials.trust_local_peers = true;
  auto options = BuildFileServiceOptions(flags);
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_TRUE(options->write_access.trusts_local_peers());
  EXPECT_TRUE(options->read_access.is_open());
}

TEST(FileSetupTest, UidsGuardReadsAndWritesUnlessTheFilesArePublic) {
  FileServiceFlags flags;
  flags.writable = true;
  flags.credentials.allow_uids = {"0"};
  auto options = BuildFileServiceOptions(flags);
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->write_access.unix_uids(), (std::set<uid_t>{0}));
  EXPECT_EQ(options->read_access.unix_uids(), (std::set<uid_t>{0}));
  EXPECT_FALSE(options->read_access.is_open());

  flags.files_public = true;
  options = BuildFileServiceOptions(flags);
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_TRUE(options->read_access.is_open());
  EXPECT_TRUE(options->files_are_public);
  EXPECT_EQ(options->write_access.unix_uids(), (std::set<uid_t>{0}));
}

TEST(FileSetupTest, FlagsCarryOverAndAreChecked) {
  FileServiceFlags flags;
  flags.writable = true;
  flags.credentials.trust_local_peers = true;
  flags.chunk_bytes = file::kMaxChunkBytes;
  flags.max_upload_bytes = 12345;
  flags.max_transfers = 3;
  flags.max_transfers_per_peer = 0;
  flags.digest_cache_entries = 0;
  flags.refuse_hard_links_and_mounts = false;
  auto options = BuildFileServiceOptions(flags);
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_TRUE(options->root.writable);
  EXPECT_EQ(options->chunk_bytes, file::kMaxChunkBytes);
  EXPECT_EQ(options->max_upload_bytes, 12345u);
  EXPECT_EQ(options->max_transfers, 3);
  EXPECT_EQ(options->max_transfers_per_peer, 0);
  EXPECT_EQ(options->digest_cache.max_entries, 0u);
  EXPECT_EQ(options->root.refuse_hard_links_and_mounts, std::optional<bool>(false));

  flags.chunk_bytes = file::kMaxChunkBytes + 1;
  EXPECT_EQ(BuildFileServiceOptions(flags).status().code(), absl::StatusCode::kInvalidArgument);
  flags.chunk_bytes = file::kMinChunkBytes - 1;
  EXPECT_EQ(BuildFileServiceOptions(flags).status().code(), absl::StatusCode::kInvalidArgument);
  flags.chunk_bytes = file::kMinChunkBytes;
  flags.max_transfers = 0;
  EXPECT_EQ(BuildFileServiceOptions(flags).status().code(), absl::StatusCode::kInvalidArgument);
  flags.max_transfers = 1;
  flags.max_transfers_per_peer = -1;
  EXPECT_EQ(BuildFileServiceOptions(flags).status().message(),
            "--file_max_transfers_per_peer must not be negative (0: no per-peer cap), not -1");
  flags.max_transfers_per_peer = 1;
  flags.digest_cache_entries = -1;
  EXPECT_EQ(BuildFileServiceOptions(flags).status().message(),
            "--file_digest_cache_entries must be between 0 and 1048576, not -1");
  flags.digest_cache_entries = (int64_t{1} << 20) + 1;
  EXPECT_EQ(BuildFileServiceOptions(flags).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(FileSetupTest, TokenComesFromAnOwnerOnlyFile) {
  const char* tmp = ::getenv("TEST_TMPDIR");
  const std::string path = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/file_token");
  std::ofstream(path) << "a-token-of-sixteen-or-more\n";
  FileServiceFlags flags;
  flags.credentials.auth_token_file = path;
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  EXPECT_EQ(BuildFileServiceOptions(flags).status().code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  auto options = BuildFileServiceOptions(flags);
  ASSERT_TRUE(options.ok()) << options.status();
  ASSERT_TRUE(options->read_access.accepts_token());
  ASSERT_TRUE(options->write_access.accepts_token());
  const std::string presented = auth::AuthorizationValue("a-token-of-sixteen-or-more");
  auth::CallCredentials call;
  call.authorization = &presented;
  EXPECT_TRUE(options->read_access.Check(call).ok());
  // Without it, reads are refused too: a token guards the whole service.
  EXPECT_EQ(options->read_access.Check(auth::CallCredentials()).code(),
            absl::StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace framerpc::server

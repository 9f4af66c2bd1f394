// The file service's collector reads what transfers did: bytes each way, uploads committed and
// failed, checksum failures, slots in use and refusals by reason, through the service's own calls
// on a real server. The exposition is the text Prometheus scrapes.
#include "server/service_metrics.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "metrics/exposition.h"
#include "services/file/file_client.h"
#include "services/file/file_server_fixture.h"
#include "services/file/sha256.h"
#include "services/file/test_tree.h"

namespace framerpc::server {
namespace {

using file::FileServer;
using file::TestTree;
using file::TransferCounters;

class FileMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    file::FileServiceOptions options;
    options.root.writable = true;
    options.write_access = auth::AccessPolicy::Open();  // a test server on loopback
    options.max_transfers = 2;
    options.max_transfers_per_peer = 1;
    absl::Status status = server_.Start(tree_.root(), std::move(options));
    ASSERT_TRUE(status.ok()) << status;
    metrics_ = std::make_unique<FileMetrics>(server_.tracker());
    exposition_.Add(metrics_.get());
  }

  // The line of `series` (name and labels) in the exposition, e.g. "framerpc_file_x_total 3".
  std::string Line(const std::string& series) const {
    const std::string text = exposition_.Render();
    for (absl::string_view line : absl::StrSplit(text, '\n')) {
      if (absl::StartsWith(line, series + " ")) return std::string(line);
    }
    return "(no " + series + " in the exposition)";
  }

  TestTree tree_;
  FileServer server_;
  std::unique_ptr<FileMetrics> metrics_;
  metrics::Exposition exposition_;
};

TEST_F(FileMetricsTest, BeforeAnyTransferEverySeriesIsThereAtZero) {
  for (const char* series :
       {"framerpc_file_sent_bytes_total", "framerpc_file_received_bytes_total",
        "framerpc_file_hashed_bytes_total", "framerpc_file_transfers_active",
        "framerpc_file_transfers_refused_total{reason=\"busy\"}",
        "framerpc_file_transfers_refused_total{reason=\"per_peer\"}",
        "framerpc_file_uploads_total{outcome=\"committed\"}",
        "framerpc_file_uploads_total{outcome=\"failed\"}",
        "framerpc_file_checksum_failures_total"}) {
    EXPECT_EQ(Line(series), absl::StrCat(series, " 0"));
  }
  EXPECT_EQ(Line("framerpc_file_transfers_max"), "framerpc_file_transfers_max 2");
}

TEST_F(FileMetricsTest, UploadDownloadAndAChecksumFailure) {
  const std::string content = file::TestContent(100000, 7);
  TestTree::WriteFile(tree_.InRoot("../local.bin"), content);
  ClientContext upload_context;
  absl::StatusOr<file::UploadResult> uploaded =
      file::UploadFile(server_.stub(), &upload_context, tree_.base() + "/local.bin", "up.bin", {});
  ASSERT_TRUE(uploaded.ok()) << uploaded.status();
  ClientContext download_context;
  absl::StatusOr<file::DownloadResult> downloaded = file::DownloadFile(
      server_.stub(), &download_context, "up.bin", tree_.base() + "/down.bin", {});
  ASSERT_TRUE(downloaded.ok()) << downloaded.status();

  // An upload whose data does not match the SHA-256 its header announces.
  ClientContext bad_context;
  file::UploadResponse response;
  auto writer = server_.stub()->Upload(&bad_context, &response);
  file::UploadRequest header;
  header.mutable_header()->set_path("bad.bin");
  header.mutable_header()->set_size(5);
  header.mutable_header()->set_sha256(file::Sha256::Of("other"));
  ASSERT_TRUE(writer->Write(header));
  ASSERT_TRUE(writer->Write(file::UploadRequest(), "12345"));
  writer->WritesDone();
  EXPECT_EQ(writer->Finish().code(), absl::StatusCode::kDataLoss);
  ASSERT_TRUE(server_.tracker()->WaitFor(
      [](const TransferCounters& c) { return c.active == 0 && c.uploads_failed == 1; },
      absl::Now() + absl::Seconds(30)));

  EXPECT_EQ(Line("framerpc_file_received_bytes_total"),
            absl::StrCat("framerpc_file_received_bytes_total ", content.size() + 5));
  EXPECT_EQ(Line("framerpc_file_sent_bytes_total"),
            absl::StrCat("framerpc_file_sent_bytes_total ", content.size()));
  EXPECT_EQ(Line("framerpc_file_uploads_total{outcome=\"committed\"}"),
            "framerpc_file_uploads_total{outcome=\"committed\"} 1");
  EXPECT_EQ(Line("framerpc_file_uploads_total{outcome=\"failed\"}"),
            "framerpc_file_uploads_total{outcome=\"failed\"} 1");
  EXPECT_EQ(Line("framerpc_file_checksum_failures_total"),
            "framerpc_file_checksum_failures_total 1");
  EXPECT_EQ(Line("framerpc_file_transfers_active"), "framerpc_file_transfers_active 0");
}

TEST_F(FileMetricsTest, RefusalsByReasonAndSlotsInUse) {
  TestTree::WriteFile(tree_.InRoot("f.bin"), "data");
  const auto download = [this](const std::string& local) {
    ClientContext context;
    return file::DownloadFile(server_.stub(), &context, "f.bin", tree_.base() + "/" + local, {})
        .status();
  };
  // Slots held as running transfers hold them. Both by other peers: every slot is taken.
  auto first = std::make_unique<absl::StatusOr<file::TransferSlot>>(
      server_.tracker()->Begin("10.9.9.8"));
  absl::StatusOr<file::TransferSlot> second = server_.tracker()->Begin("10.9.9.9");
  ASSERT_TRUE(first->ok() && second.ok());
  EXPECT_EQ(Line("framerpc_file_transfers_active"), "framerpc_file_transfers_active 2");
  EXPECT_EQ(download("a.bin").code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Line("framerpc_file_transfers_refused_total{reason=\"busy\"}"),
            "framerpc_file_transfers_refused_total{reason=\"busy\"} 1");
  // One freed and taken by this test's own address (127.0.0.1), at its per-peer cap of 1.
  first.reset();
  absl::StatusOr<file::TransferSlot> ours = server_.tracker()->Begin("127.0.0.1");
  ASSERT_TRUE(ours.ok()) << ours.status();
  EXPECT_EQ(download("b.bin").code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Line("framerpc_file_transfers_refused_total{reason=\"per_peer\"}"),
            "framerpc_file_transfers_refused_total{reason=\"per_peer\"} 1");
  EXPECT_EQ(Line("framerpc_file_transfers_refused_total{reason=\"busy\"}"),
            "framerpc_file_transfers_refused_total{reason=\"busy\"} 1");
  EXPECT_EQ(Line("framerpc_file_transfers_active"), "framerpc_file_transfers_active 2");
}

}  // namespace
}  // namespace framerpc::server

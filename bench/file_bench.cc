// file_bench: the file service's download and upload of one large file on one connection,
// against raw loopback TCP transfers measured in the same run.
//
//   bazel build //bench:file_bench && bazel-bin/bench/file_bench --mib=1024 --rounds=3
//
// Rows (each moves --mib MiB; rows take turns in each round; the table shows medians):
//   raw TCP bulk (floor)          bench/raw_bulk.h: send() and recv() of the same bytes in the
//                                 same piece size; the ratio in the issue is against this row
//   raw TCP + the download's work the same transfer doing what a verified download must do
//                                 without framerpc: the sender preads the file and hashes it,
//                                 the receiver hashes and writes a local file
//   framerpc download             file::DownloadFile from FileServiceImpl: header, data as
//                                 attachments, trailer; both ends compute SHA-256
//   raw TCP + the upload's work   as above, and the receiver fsyncs the file at the end
//   framerpc upload               file::UploadFile: the server writes a temp file, checks the
//                                 SHA-256, fsyncs and renames it into place
// The source file is written once under --dir and stays in the page cache; the files written
// (a local copy, the uploaded file) are overwritten every round.
#include <fcntl.h>
#include <ftw.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/scoped_fd.h"
#include "bench/raw_bulk.h"
#include "rpc/channel.h"
#include "rpc/server.h"
#include "services/file/file_client.h"
#include "services/file/file_io.h"
#include "services/file/file_service.h"
#include "services/file/sha256.h"

ABSL_FLAG(int, mib, 1024, "MiB per transfer.");
ABSL_FLAG(int, rounds, 3, "Rounds; the table shows medians.");
ABSL_FLAG(int, chunk_kib, 256, "Download chunk, upload message and raw piece size, in KiB.");
ABSL_FLAG(std::string, dir, "/tmp", "Where the files are created (and removed).");
ABSL_FLAG(std::string, rows, "", "Comma-separated row numbers to run (1-5); empty: all.");

namespace framerpc::bench {
namespace {

using file::Sha256;

absl::Status Fail(absl::string_view what) { return absl::InternalError(what); }

// Sender of the raw rows: preads the file and hashes it, sends each piece.
absl::Status SendFileHashed(int socket, int file, size_t total, size_t chunk) {
  std::string buffer(chunk, '\0');
  Sha256 sha;
  for (size_t done = 0; done < total;) {
    const size_t want = std::min(chunk, total - done);
    absl::StatusOr<size_t> got = file::PreadFull(file, buffer.data(), want, done, "source");
    if (!got.ok() || *got != want) return Fail("short read of the source");
    sha.Update(absl::string_view(buffer.data(), want));
    for (size_t sent = 0; sent < want;) {
      const ssize_t n = ::send(socket, buffer.data() + sent, want - sent, MSG_NOSIGNAL);
      if (n <= 0) return Fail("send failed");
      sent += static_cast<size_t>(n);
    }
    done += want;
  }
  sha.Finish();
  return absl::OkStatus();
}

// Receiver of the raw rows: hashes what arrives and writes it to `path`; fsyncs if asked.
absl::Status ReceiveToFile(int socket, const std::string& path, size_t total, size_t chunk,
                           bool fsync) {
  ScopedFd out(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!out.valid()) return Fail("cannot create the raw receiver's file");
  std::string buffer(chunk, '\0');
  Sha256 sha;
  size_t received = 0;
  for (;;) {
    const ssize_t n = ::recv(socket, buffer.data(), buffer.size(), 0);
    if (n < 0) return Fail("recv failed");
    if (n == 0) break;
    const absl::string_view data(buffer.data(), static_cast<size_t>(n));
    sha.Update(data);
    absl::Status written = file::WriteAll(out.get(), data, path);
    if (!written.ok()) return written;
    received += data.size();
  }
  sha.Finish();
  if (fsync && ::fsync(out.get()) != 0) return Fail("fsync failed");
  if (received != total) return Fail("raw transfer ended early");
  return absl::OkStatus();
}

absl::Status MakeSource(const std::string& path, size_t total) {
  ScopedFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd.valid()) return Fail("cannot create the source file");
  std::string block(1 << 20, '\0');
  for (size_t i = 0; i < block.size(); ++i) block[i] = static_cast<char>(i * 2654435761u >> 24);
  for (size_t done = 0; done < total; done += block.size()) {
    absl::Status status =
        file::WriteAll(fd.get(), absl::string_view(block).substr(0, total - done), path);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

int RemoveEntry(const char* path, const struct stat*, int, struct FTW*) { return ::remove(path); }

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

struct Row {
  std::string name;
  std::function<absl::StatusOr<double>()> run;
  std::vector<double> rates;
};

int Run(const std::string& work) {
  const size_t chunk = static_cast<size_t>(absl::GetFlag(FLAGS_chunk_kib)) << 10;
  const size_t total = static_cast<size_t>(absl::GetFlag(FLAGS_mib)) << 20;
  const std::string root = work + "/root";
  const std::string source = root + "/source.bin";
  const std::string local = work + "/local.bin";
  if (::mkdir(root.c_str(), 0700) != 0 || !MakeSource(source, total).ok()) {
    std::fprintf(stderr, "setup: cannot create %s\n", source.c_str());
    return 1;
  }
  ScopedFd source_fd(::open(source.c_str(), O_RDONLY | O_CLOEXEC));

  file::FileServiceOptions file_options;
  file_options.root.writable = true;
  file_options.chunk_bytes = chunk;
  file_options.max_upload_bytes = total;
  auto service = file::FileServiceImpl::Create(root, file_options);
  ServerOptions server_options;
  server_options.io_threads = 1;
  Server server(server_options);
  absl::Status status = service.status();
  if (status.ok()) status = server.AddService(service->get(), ServiceOptions{.run_inline = false});
  if (status.ok()) status = server.AddListener("127.0.0.1:0");
  if (status.ok()) status = server.Start();
  absl::StatusOr<std::unique_ptr<Channel>> channel =
      status.ok() ? Channel::Create(server.listen_address(0))
                  : absl::StatusOr<std::unique_ptr<Channel>>(status);
  if (!channel.ok()) {
    std::fprintf(stderr, "setup: %s\n", channel.status().ToString().c_str());
    return 1;
  }
  file::FileService::Stub stub(channel->get());

  auto raw_row = [&](bool fsync) -> absl::StatusOr<double> {
    absl::StatusOr<absl::Duration> elapsed = TimeRawTransfer(
        [&](int socket) { return SendFileHashed(socket, source_fd.get(), total, chunk); },
        [&](int socket) { return ReceiveToFile(socket, local, total, chunk, fsync); });
    if (!elapsed.ok()) return elapsed.status();
    return MiBPerSecond(total, *elapsed);
  };
  std::vector<Row> rows = {
      {"raw TCP bulk (floor)", [&] { return RawBulk(total, chunk); }, {}},
      {"raw TCP + the download's work (pread, SHA-256 x2, write)", [&] { return raw_row(false); },
       {}},
      {"framerpc download",
       [&]() -> absl::StatusOr<double> {
         ClientContext context;
         const absl::Time start = absl::Now();
         auto result = file::DownloadFile(&stub, &context, "source.bin", local, {});
         if (!result.ok()) return result.status();
         if (result->received != total) return Fail("short download");
         return MiBPerSecond(total, absl::Now() - start);
       },
       {}},
      {"raw TCP + the upload's work (+ fsync)", [&] { return raw_row(true); }, {}},
      {"framerpc upload (+ fsync, rename)",
       [&]() -> absl::StatusOr<double> {
         ClientContext context;
         file::UploadOptions options;
         options.overwrite = true;
         options.chunk_bytes = chunk;
         const absl::Time start = absl::Now();
         auto result = file::UploadFile(&stub, &context, source, "uploaded.bin", options);
         if (!result.ok()) return result.status();
         return MiBPerSecond(total, absl::Now() - start);
       },
       {}},
  };
  const std::string selected = absl::GetFlag(FLAGS_rows);
  std::vector<size_t> active;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (selected.empty() || i == 0 ||
        absl::StrContains(absl::StrCat(",", selected, ","), absl::StrCat(",", i + 1, ","))) {
      active.push_back(i);
    }
  }
  for (int round = 0; round < absl::GetFlag(FLAGS_rounds); ++round) {
    for (size_t i : active) {
      absl::StatusOr<double> rate = rows[i].run();
      if (!rate.ok()) {
        std::fprintf(stderr, "%s: %s\n", rows[i].name.c_str(), rate.status().ToString().c_str());
        return 1;
      }
      rows[i].rates.push_back(*rate);
    }
  }
  server.Shutdown(absl::Seconds(5));

  std::printf("\none file of %zu MiB on one connection, %zu KiB pieces, median of %d rounds\n\n",
              total >> 20, chunk >> 10, absl::GetFlag(FLAGS_rounds));
  std::printf("| row | MiB/s | x floor | x same work |\n|---|---:|---:|---:|\n");
  const double floor = Median(rows[0].rates);
  for (size_t i : active) {
    const double rate = Median(rows[i].rates);
    // Each framerpc row against the raw row just above it, which does the same file work.
    const bool framerpc = i == 2 || i == 4;
    char same[16] = "";
    if (framerpc && !rows[i - 1].rates.empty()) {
      std::snprintf(same, sizeof(same), "%.2f", rate / Median(rows[i - 1].rates));
    }
    std::printf("| %s | %.0f | %.2f | %s |\n", rows[i].name.c_str(), rate, rate / floor, same);
  }
  return 0;
}

int Main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  std::string work = absl::StrCat(absl::GetFlag(FLAGS_dir), "/file_bench.XXXXXX");
  if (::mkdtemp(work.data()) == nullptr) {
    std::fprintf(stderr, "cannot create a directory under %s\n", absl::GetFlag(FLAGS_dir).c_str());
    return 1;
  }
  const int code = Run(work);
  ::nftw(work.c_str(), RemoveEntry, 16, FTW_DEPTH | FTW_PHYS);
  return code;
}

}  // namespace
}  // namespace framerpc::bench

int main(int argc, char** argv) { return framerpc::bench::Main(argc, argv); }

// file_bench: the file service's download and upload of one large file on one connection,
// against raw loopback TCP transfers measured in the same run.
//
//   bazel build //bench:file_bench && bazel-bin/bench/file_bench --mib=1024 --rounds=3
//   bazel-bin/bench/file_bench --rows=4,5,6 --chunk_kib=256,1024 --window_kib=1024,4096,8192
//   bazel-bin/bench/file_bench --checksum=sha256     (every row hashes with SHA-256 instead)
//
// Every row that hashes uses --checksum's algorithm (XXH3-128 by default, as the file client):
// the raw rows, the server, the client, the digest cache.
//
// Rows (each moves --mib MiB; rows take turns in each round, the order turned by one row each
// round; the table shows medians, and each ratio is taken against the floor of the same round):
//    1 raw TCP bulk (floor)          bench/raw_bulk.h: send() and recv() of the same bytes in the
//                                    same piece size, from memory (column "x raw TCP"); issue 18's
//                                    file targets are against the file floors, rows 11-13
//    2 raw TCP + the download's work the same transfer doing what a verified download must do
//                                    without framerpc: the sender preads the file and hashes it,
//                                    the receiver hashes and writes a local file
//    3 framerpc download, server hashes: file::DownloadFile from a FileServiceImpl whose digest
//                                    cache is off: header, data as attachments, trailer; both
//                                    ends hash, the client writes the local file
//    4 framerpc download, cached digest: the same from the default service, whose digest cache
//                                    holds the file's digest (warmed before the rounds): only
//                                    the client hashes
//    5 ... into memory, client verifies: the raw stub; the client hashes the attachments and
//                                    checks the trailer, and writes nothing
//    6 ... into memory, client discards: no hashing at either end, nothing written: the
//                                    transport and the server's pread alone
//   15 ... into memory, client verifies in callbacks: row 5 read with ReadAsync, each attachment
//                                    hashed in the callback on the channel's I/O thread, which
//                                    starts the next read: no thread woken per message
//                                    Rows 3-6 and 15 run once per download configuration: each
//                                    server chunk size in --chunk_kib with each client receive
//                                    window in --window_kib (one server per chunk size).
//    7 raw TCP + the upload's work   as row 2, but the receiver does what the file service does
//                                    with an upload: writes it with file::DirectWriter (O_DIRECT),
//                                    reads it back and hashes that, and fsyncs at the end
//    8 framerpc upload               file::UploadFile: the client hashes and sends the digest; the
//                                    server writes a temp file, hashes, fsyncs, renames it
//    9 upload, no digest from the client: the raw stub; the server still hashes (for its reply)
//   10 upload to /dev/shm            row 8 into a root on tmpfs (--shm_dir): no disk, fsync free
// The file floors, the rows issue 18's file targets are measured against (column "x file floor"):
//   11 download file floor           the "pread + send of the same file": raw TCP, the
//                                    sender preads the source in the same pieces and sends them,
//                                    the receiver recv()s and discards; nothing hashed. Rows 2-6
//                                    are divided by it.
//   12 upload file floor, write()    raw TCP, the receiver write()s what arrives into a new file
//                                    (O_EXCL, beside the upload's target), fsyncs it and renames
//                                    it onto the target; nothing hashed, nothing read back
//   13 upload file floor, O_DIRECT   the same, written with file::DirectWriter (O_DIRECT)
//   14 upload file floor, write-behind  the same, written with write() and the write-back of
//                                    every 8 MiB started at once (sync_file_range)
//                                    Rows 7-9 are divided by the fastest of 12-14 in the same
//                                    round: the least a program without framerpc needs to do what
//                                    an upload does, done the best of three ways on this machine.
// Row 1 always runs; row 11 with any of rows 2-6, rows 12-14 with any of rows 7-10.
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
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "base/notification.h"
#include "base/scoped_fd.h"
#include "bench/raw_bulk.h"
#include "rpc/channel.h"
#include "rpc/server.h"
#include "services/file/checksum.h"
#include "services/file/checksum_proto.h"
#include "services/file/direct_writer.h"
#include "services/file/file_client.h"
#include "services/file/file_io.h"
#include "services/file/file_service.h"
#include "services/file/read_back.h"

ABSL_FLAG(int, mib, 1024, "MiB per transfer.");
ABSL_FLAG(int, rounds, 3, "Rounds; the table shows medians.");
ABSL_FLAG(std::string, chunk_kib, "256",
          "Download chunk sizes (the server's FileServiceOptions::chunk_bytes), comma-separated, "
          "in KiB; rows 3-6 run once for each. The first is also the upload message and raw "
          "piece size.");
ABSL_FLAG(std::string, window_kib, "",
          "Client receive windows for rows 3-6 (ClientContext::set_stream_receive_window), "
          "comma-separated, in KiB; empty: the file client's default "
          "(file::kDownloadReceiveWindowBytes).");
ABSL_FLAG(std::string, dir, "/tmp", "Where the files are created (and removed).");
ABSL_FLAG(std::string, rows, "", "Comma-separated row numbers to run (1-10); empty: all.");
ABSL_FLAG(std::string, checksum, "xxh3", "The checksum every row uses: xxh3 or sha256.");
ABSL_FLAG(std::string, shm_dir, "/dev/shm",
          "A tmpfs directory for the upload row without a disk; empty: skip that row.");

namespace framerpc::bench {
namespace {

using file::HashAlgorithm;
using file::Hasher;

absl::Status Fail(absl::string_view what) { return absl::InternalError(what); }

// --checksum's algorithm (checked in Main).
HashAlgorithm Algorithm() {
  return absl::GetFlag(FLAGS_checksum) == "sha256" ? HashAlgorithm::kSha256
                                                   : HashAlgorithm::kXxh128;
}

// Sender of the raw rows: preads the file, hashes it (`hash`), sends each piece.
absl::Status SendFile(int socket, int file, size_t total, size_t chunk, bool hash) {
  std::string buffer(chunk, '\0');
  Hasher sha(Algorithm());
  for (size_t done = 0; done < total;) {
    const size_t want = std::min(chunk, total - done);
    absl::StatusOr<size_t> got = file::PreadFull(file, buffer.data(), want, done, "source");
    if (!got.ok() || *got != want) return Fail("short read of the source");
    if (hash) sha.Update(absl::string_view(buffer.data(), want));
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

// Receiver of the raw rows: hashes what arrives and writes it to `path`. For the upload's work
// (`upload`), does what the file service does with an upload: writes it with file::DirectWriter,
// then reads it back and hashes that (file::ReadBackDigest), and fsyncs.
absl::Status ReceiveToFile(int socket, const std::string& path, size_t total, size_t chunk,
                           bool upload) {
  ScopedFd out(::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!out.valid()) return Fail("cannot create the raw receiver's file");
  std::optional<file::DirectWriter> direct;
  if (upload) direct.emplace(out.get(), total, path);
  std::string buffer(chunk, '\0');
  Hasher sha(Algorithm());
  size_t received = 0;
  for (;;) {
    const ssize_t n = ::recv(socket, buffer.data(), buffer.size(), 0);
    if (n < 0) return Fail("recv failed");
    if (n == 0) break;
    const absl::string_view data(buffer.data(), static_cast<size_t>(n));
    if (!upload) sha.Update(data);
    absl::Status written =
        direct.has_value() ? direct->Append(data) : file::WriteAll(out.get(), data, path);
    if (!written.ok()) return written;
    received += data.size();
  }
  sha.Finish();
  if (direct.has_value()) {
    if (absl::Status written = direct->Finish(); !written.ok()) return written;
    absl::StatusOr<std::string> digest = file::ReadBackDigest(out.get(), total, Algorithm(), path);
    if (!digest.ok()) return digest.status();
    if (::fsync(out.get()) != 0) return Fail("fsync failed");
  }
  if (received != total) return Fail("raw transfer ended early");
  return absl::OkStatus();
}

// recv()s until the sender closes, handing each piece to `take`; fails unless `total` bytes came.
absl::Status ReceiveUntilClosed(int socket, size_t total, size_t chunk,
                                const std::function<absl::Status(absl::string_view)>& take) {
  std::string buffer(chunk, '\0');
  size_t received = 0;
  for (;;) {
    const ssize_t n = ::recv(socket, buffer.data(), buffer.size(), 0);
    if (n < 0) return Fail("recv failed");
    if (n == 0) break;
    received += static_cast<size_t>(n);
    absl::Status taken = take(absl::string_view(buffer.data(), static_cast<size_t>(n)));
    if (!taken.ok()) return taken;
  }
  return received == total ? absl::OkStatus() : Fail("raw transfer ended early");
}

// Receiver of the download file floor (row 11): recv() and discard.
absl::Status ReceiveDiscard(int socket, size_t total, size_t chunk) {
  return ReceiveUntilClosed(socket, total, chunk, [](absl::string_view) { return absl::OkStatus(); });
}

// How an upload file floor writes its new file.
enum class FloorWrite { kPlain, kDirect, kWriteBehind };

// Receiver of the upload file floors (rows 12-14): what arrives goes into a new file beside
// `target` (created O_EXCL), written with write(), with file::DirectWriter, or with write() and
// the write-back of every 8 MiB started as soon as it is written (sync_file_range
// SYNC_FILE_RANGE_WRITE, which does not wait), then fsync and rename onto `target`. Nothing is
// hashed or read back.
absl::Status ReceiveNewFile(int socket, const std::string& target, size_t total, size_t chunk,
                            FloorWrite how) {
  const std::string temp = target + ".floor-tmp";
  ::unlink(temp.c_str());
  ScopedFd out(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!out.valid()) return Fail("cannot create the floor's new file");
  std::optional<file::DirectWriter> direct;
  if (how == FloorWrite::kDirect) direct.emplace(out.get(), total, temp);
  constexpr size_t kWriteBackBytes = size_t{8} << 20;
  size_t write_back_started = 0;
  size_t written_bytes = 0;
  absl::Status received = ReceiveUntilClosed(socket, total, chunk, [&](absl::string_view data) {
    absl::Status written =
        direct.has_value() ? direct->Append(data) : file::WriteAll(out.get(), data, temp);
    if (!written.ok()) return written;
    written_bytes += data.size();
    if (how == FloorWrite::kWriteBehind && written_bytes - write_back_started >= kWriteBackBytes) {
      ::sync_file_range(out.get(), static_cast<off_t>(write_back_started),
                        static_cast<off_t>(written_bytes - write_back_started),
                        SYNC_FILE_RANGE_WRITE);
      write_back_started = written_bytes;
    }
    return absl::OkStatus();
  });
  if (!received.ok()) return received;
  if (direct.has_value()) {
    if (absl::Status written = direct->Finish(); !written.ok()) return written;
  }
  if (::fsync(out.get()) != 0) return Fail("fsync failed");
  if (::rename(temp.c_str(), target.c_str()) != 0) return Fail("rename failed");
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

// A comma-separated list of positive KiB counts, in bytes.
bool ParseKiBList(const std::string& text, std::vector<size_t>* out) {
  for (absl::string_view item : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    int kib = 0;
    if (!absl::SimpleAtoi(item, &kib) || kib <= 0) return false;
    out->push_back(static_cast<size_t>(kib) << 10);
  }
  return !out->empty();
}

struct Row {
  int number;  // 1-10, as in the header comment
  std::string name;
  std::function<absl::StatusOr<double>()> run;
  int same_work;  // number of the raw row doing the same file work, or -1
  std::vector<double> rates;  // one per round, in round order
  // The rows whose best rate in each round is this row's file floor (issue 18's targets); empty:
  // none.
  std::vector<int> file_floor = {};
};

// One FileServiceImpl on its own server and connection.
struct Served {
  std::unique_ptr<file::FileServiceImpl> service;
  std::unique_ptr<Server> server;
  std::unique_ptr<Channel> channel;
  std::unique_ptr<file::FileService::Stub> stub;

  absl::Status Start(const std::string& root, file::FileServiceOptions options) {
    auto created = file::FileServiceImpl::Create(root, std::move(options));
    if (!created.ok()) return created.status();
    service = *std::move(created);
    ServerOptions server_options;
    server_options.io_threads = 1;
    server = std::make_unique<Server>(server_options);
    absl::Status status = server->AddService(service.get(), ServiceOptions{.run_inline = false});
    if (status.ok()) status = server->AddListener("127.0.0.1:0");
    if (status.ok()) status = server->Start();
    if (!status.ok()) return status;
    auto connected = Channel::Create(server->listen_address(0));
    if (!connected.ok()) return connected.status();
    channel = *std::move(connected);
    stub = std::make_unique<file::FileService::Stub>(channel.get());
    return absl::OkStatus();
  }
  ~Served() {
    stub.reset();
    channel.reset();
    if (server) server->Shutdown(absl::Seconds(5));
  }
};

// Starts a download of `path` with the bench's checksum and a receive window of `window`.
std::unique_ptr<ClientReader<file::DownloadResponse>> StartDownload(
    file::FileService::Stub* stub, const std::string& path, int64_t window,
    ClientContext* context) {
  context->set_stream_receive_window(window);
  file::DownloadRequest request;
  request.set_path(path);
  request.set_checksum(file::AlgorithmToProto(Algorithm()));
  return stub->Download(context, request);
}

// Downloads `path` into memory through the raw stub: each attachment is hashed and checked
// against the trailer (`verify`), or only counted.
absl::StatusOr<double> DownloadToMemory(file::FileService::Stub* stub, const std::string& path,
                                        size_t total, int64_t window, bool verify) {
  ClientContext context;
  const absl::Time start = absl::Now();
  auto reader = StartDownload(stub, path, window, &context);
  file::DownloadResponse message;
  std::string data;
  Hasher sha(Algorithm());
  size_t received = 0;
  std::string trailer_sha;
  while (reader->Read(&message, &data)) {
    if (message.has_trailer()) trailer_sha = message.trailer().checksum().digest();
    if (message.has_header() || message.has_trailer()) continue;
    if (verify) sha.Update(data);
    received += data.size();
  }
  absl::Status status = file::UnsharedStatus(reader->Finish());
  const absl::Duration elapsed = absl::Now() - start;
  if (!status.ok()) return status;
  if (received != total) return Fail("short download");
  if (verify && sha.Finish() != trailer_sha) return Fail("checksum mismatch");
  return MiBPerSecond(total, elapsed);
}

// As DownloadToMemory with `verify`, reading with callbacks (ReadAsync): each attachment is hashed
// in the callback, on the channel's I/O thread, which starts the next read; no thread is woken
// per message.
absl::StatusOr<double> DownloadToMemoryAsync(file::FileService::Stub* stub,
                                             const std::string& path, size_t total,
                                             int64_t window) {
  ClientContext context;
  const absl::Time start = absl::Now();
  auto reader = StartDownload(stub, path, window, &context);
  struct ReadLoop {
    ClientReader<file::DownloadResponse>* reader;
    file::DownloadResponse message;
    std::string data;
    Hasher hasher{Algorithm()};
    size_t received = 0;
    std::string trailer_digest;
    Notification done;
    void Next() {
      reader->ReadAsync(&message, &data, [this](bool ok) {
        if (!ok) {
          done.Notify();
          return;
        }
        if (message.has_trailer()) {
          trailer_digest = message.trailer().checksum().digest();
        } else if (!message.has_header()) {
          hasher.Update(data);
          received += data.size();
        }
        Next();
      });
    }
  } loop;
  loop.reader = reader.get();
  loop.Next();
  loop.done.WaitForNotification();
  absl::Status status = file::UnsharedStatus(reader->Finish());
  const absl::Duration elapsed = absl::Now() - start;
  if (!status.ok()) return status;
  if (loop.received != total) return Fail("short download");
  if (loop.hasher.Finish() != loop.trailer_digest) return Fail("checksum mismatch");
  return MiBPerSecond(total, elapsed);
}

// Uploads the open file `fd` through the raw stub, with no digest from the client (the server
// still hashes what it receives, for its reply).
absl::StatusOr<double> UploadUnverified(file::FileService::Stub* stub, int fd, size_t total,
                                        size_t chunk, const std::string& remote) {
  ClientContext context;
  file::UploadResponse response;
  const absl::Time start = absl::Now();
  auto writer = stub->Upload(&context, &response);
  file::UploadRequest message;
  message.mutable_header()->set_path(remote);
  message.mutable_header()->set_size(total);
  message.mutable_header()->set_overwrite(true);
  message.mutable_header()->set_checksum(file::AlgorithmToProto(Algorithm()));
  bool open = writer->Write(message);
  const file::UploadRequest data_message;
  std::string buffer(chunk, '\0');
  for (size_t done = 0; open && done < total;) {
    const size_t want = std::min(chunk, total - done);
    absl::StatusOr<size_t> got = file::PreadFull(fd, buffer.data(), want, done, "source");
    if (!got.ok() || *got != want) return Fail("short read of the source");
    open = writer->Write(data_message, absl::string_view(buffer.data(), want));
    done += want;
  }
  if (open) writer->WritesDone();
  absl::Status status = file::UnsharedStatus(writer->Finish());
  if (!status.ok()) return status;
  if (response.size() != total) return Fail("short upload");
  return MiBPerSecond(total, absl::Now() - start);
}

// Waits until `path`'s mtime and ctime are older than the digest cache's racy margin, then has
// `served` hash it once (a checksummed Stat), so that downloads from it find the digest cached.
absl::Status WarmDigestCache(Served* served, const std::string& path, const std::string& remote) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return Fail("cannot stat the source");
  const absl::Time newest = std::max(absl::TimeFromTimespec(st.st_mtim),
                                     absl::TimeFromTimespec(st.st_ctim));
  const absl::Time old_enough =
      newest + served->service->options().digest_cache.racy_margin + absl::Milliseconds(100);
  if (absl::Now() < old_enough) absl::SleepFor(old_enough - absl::Now());
  ClientContext context;
  file::StatRequest request;
  request.set_path(remote);
  request.set_checksum(file::AlgorithmToProto(Algorithm()));
  file::StatResponse response;
  absl::Status status = served->stub->Stat(&context, request, &response);
  if (!status.ok()) return status;
  if (served->service->digest_cache()->stats().stored == 0) return Fail("digest not cached");
  return absl::OkStatus();
}

// One download configuration of rows 3-6: the server's chunk size and the client's window.
struct DownloadConfig {
  size_t chunk;
  int64_t window;
  Served* cached;   // digest cache on, warmed
  Served* hashing;  // digest cache off
  std::string Label() const {
    return absl::StrCat(" [chunk ", chunk >> 10, " KiB, window ", window >> 10, " KiB]");
  }
};

// Each row's ratio to another row (the floor, or the raw row of the same work) in each round:
// rates[r] / base.rates[r]. Both rows ran once in every round.
std::vector<double> RoundRatios(const Row& row, const Row& base) {
  std::vector<double> ratios;
  for (size_t r = 0; r < row.rates.size() && r < base.rates.size(); ++r) {
    ratios.push_back(base.rates[r] > 0 ? row.rates[r] / base.rates[r] : 0);
  }
  return ratios;
}

// The best of `rows`' rates in each round (the file floor made of two ways of doing the same).
Row BestOf(const std::vector<const Row*>& rows) {
  Row best{0, "", nullptr, -1, {}};
  for (const Row* row : rows) {
    for (size_t r = 0; r < row->rates.size(); ++r) {
      if (best.rates.size() <= r) best.rates.push_back(0);
      best.rates[r] = std::max(best.rates[r], row->rates[r]);
    }
  }
  return best;
}

std::string RatioRange(const std::vector<double>& ratios) {
  if (ratios.empty()) return "";
  char text[48];
  std::snprintf(text, sizeof(text), "%.2f (%.2f-%.2f)", Median(ratios),
                *std::min_element(ratios.begin(), ratios.end()),
                *std::max_element(ratios.begin(), ratios.end()));
  return text;
}

void PrintTable(const std::vector<Row>& rows, const std::vector<size_t>& active, size_t total,
                size_t chunk, const file::DigestCacheStats& cache_stats) {
  std::printf("\none file of %zu MiB on one connection, raw and upload pieces of %zu KiB, %d "
              "rounds, checksum %s; medians, ratios against the floor of the same round "
              "(digest cache: %llu hits, %llu misses)\n\n",
              total >> 20, chunk >> 10, absl::GetFlag(FLAGS_rounds),
              std::string(file::AlgorithmName(Algorithm())).c_str(),
              static_cast<unsigned long long>(cache_stats.hits),
              static_cast<unsigned long long>(cache_stats.misses));
  std::printf("| # | row | MiB/s | min-max MiB/s | x raw TCP (row 1) | x file floor | "
              "x same work |\n"
              "|---|---|---:|---:|---:|---:|---:|\n");
  auto by_number = [&](int number) -> const Row* {
    for (const Row& row : rows) {
      if (row.number == number) return &row;
    }
    return nullptr;
  };
  auto file_floor_of = [&](const Row& row) -> std::optional<Row> {
    std::vector<const Row*> floors;
    for (int number : row.file_floor) {
      const Row* floor = by_number(number);
      if (floor != nullptr && !floor->rates.empty()) floors.push_back(floor);
    }
    if (floors.empty()) return std::nullopt;
    return BestOf(floors);
  };
  const Row& floor = rows[0];
  for (size_t i : active) {
    const Row& row = rows[i];
    char same[16] = "";
    const Row* base = row.same_work > 0 ? by_number(row.same_work) : nullptr;
    if (base != nullptr && !base->rates.empty()) {
      std::snprintf(same, sizeof(same), "%.2f", Median(RoundRatios(row, *base)));
    }
    const std::optional<Row> file_floor = file_floor_of(row);
    std::printf("| %d | %s | %.0f | %.0f-%.0f | %s | %s | %s |\n", row.number, row.name.c_str(),
                Median(row.rates), *std::min_element(row.rates.begin(), row.rates.end()),
                *std::max_element(row.rates.begin(), row.rates.end()),
                RatioRange(RoundRatios(row, floor)).c_str(),
                file_floor ? RatioRange(RoundRatios(row, *file_floor)).c_str() : "",
                same);
  }
  // Issue 18's two file targets, each against its file floor (medians over the rounds).
  const struct {
    int row;
    double target;
    const char* what;
  } targets[] = {
      {5, 0.8, "verified download (row 5) >= 0.8x the download file floor (row 11)"},
      {15, 0.8, "verified download read with callbacks (row 15) >= 0.8x the download file floor "
                "(row 11)"},
      {8, 0.6, "verified upload (row 8) >= 0.6x the upload file floor (best of rows 12-14)"},
  };
  for (const auto& target : targets) {
    for (size_t i : active) {
      if (rows[i].number != target.row) continue;
      const std::optional<Row> file_floor = file_floor_of(rows[i]);
      if (!file_floor) continue;
      const double ratio = Median(RoundRatios(rows[i], *file_floor));
      std::printf("\nissue 18 target: %s: %.2fx, %s", target.what, ratio,
                  ratio >= target.target ? "met" : "missed");
    }
  }
  std::printf("\n");
}

int Run(const std::string& work) {
  std::vector<size_t> chunks;
  std::vector<size_t> windows;
  const std::string window_text = absl::GetFlag(FLAGS_window_kib);
  if (window_text.empty()) windows.push_back(file::kDownloadReceiveWindowBytes);
  if (!ParseKiBList(absl::GetFlag(FLAGS_chunk_kib), &chunks) ||
      (!window_text.empty() && !ParseKiBList(window_text, &windows))) {
    std::fprintf(stderr, "--chunk_kib and --window_kib take comma-separated KiB counts\n");
    return 1;
  }
  const size_t chunk = chunks[0];
  const size_t total = static_cast<size_t>(absl::GetFlag(FLAGS_mib)) << 20;
  const std::string root = work + "/root";
  const std::string source = root + "/source.bin";
  const std::string local = work + "/local.bin";
  const std::string floor_target = root + "/floor.bin";  // beside uploaded.bin
  if (::mkdir(root.c_str(), 0700) != 0 || !MakeSource(source, total).ok()) {
    std::fprintf(stderr, "setup: cannot create %s\n", source.c_str());
    return 1;
  }
  ScopedFd source_fd(::open(source.c_str(), O_RDONLY | O_CLOEXEC));

  file::FileServiceOptions file_options;
  file_options.root.writable = true;
  file_options.write_access = auth::AccessPolicy::Open();  // the bench's own loopback server
  file_options.chunk_bytes = chunk;
  file_options.max_upload_bytes = total;
  // Per chunk size, `cached`: the default service (digest cache on); `hashing`: the same root
  // with the cache off. `shm`: a writable root on /dev/shm (tmpfs) when there is one, for
  // uploads without a disk. Uploads use the first chunk size's `cached`.
  std::map<size_t, std::unique_ptr<Served>> cached_by_chunk;
  std::map<size_t, std::unique_ptr<Served>> hashing_by_chunk;
  Served shm;
  absl::Status status;
  for (size_t c : chunks) {
    if (!status.ok() || cached_by_chunk.count(c) > 0) continue;
    file::FileServiceOptions options = file_options;
    options.chunk_bytes = c;
    file::FileServiceOptions no_cache = options;
    no_cache.digest_cache.max_entries = 0;
    cached_by_chunk[c] = std::make_unique<Served>();
    hashing_by_chunk[c] = std::make_unique<Served>();
    status = cached_by_chunk[c]->Start(root, options);
    if (status.ok()) status = hashing_by_chunk[c]->Start(root, no_cache);
    if (status.ok()) status = WarmDigestCache(cached_by_chunk[c].get(), source, "source.bin");
  }
  Served& cached = *cached_by_chunk[chunk];
  std::string shm_dir = absl::StrCat(absl::GetFlag(FLAGS_shm_dir), "/file_bench.XXXXXX");
  const bool have_shm =
      !absl::GetFlag(FLAGS_shm_dir).empty() && ::mkdtemp(shm_dir.data()) != nullptr;
  if (status.ok() && have_shm) status = shm.Start(shm_dir, file_options);
  if (!status.ok()) {
    std::fprintf(stderr, "setup: %s\n", status.ToString().c_str());
    if (have_shm) ::nftw(shm_dir.c_str(), RemoveEntry, 16, FTW_DEPTH | FTW_PHYS);
    return 1;
  }
  std::vector<DownloadConfig> configs;
  for (size_t c : chunks) {
    for (size_t w : windows) {
      configs.push_back({c, static_cast<int64_t>(w), cached_by_chunk[c].get(),
                         hashing_by_chunk[c].get()});
    }
  }

  auto raw_row = [&](bool upload) -> absl::StatusOr<double> {
    absl::StatusOr<absl::Duration> elapsed = TimeRawTransfer(
        [&](int socket) { return SendFile(socket, source_fd.get(), total, chunk, true); },
        [&](int socket) { return ReceiveToFile(socket, local, total, chunk, upload); });
    if (!elapsed.ok()) return elapsed.status();
    return MiBPerSecond(total, *elapsed);
  };
  auto download_floor_row = [&]() -> absl::StatusOr<double> {
    absl::StatusOr<absl::Duration> elapsed = TimeRawTransfer(
        [&](int socket) { return SendFile(socket, source_fd.get(), total, chunk, false); },
        [&](int socket) { return ReceiveDiscard(socket, total, chunk); });
    if (!elapsed.ok()) return elapsed.status();
    return MiBPerSecond(total, *elapsed);
  };
  auto upload_floor_row = [&](FloorWrite how) -> absl::StatusOr<double> {
    absl::StatusOr<absl::Duration> elapsed = TimeRawTransfer(
        [&](int socket) { return SendFile(socket, source_fd.get(), total, chunk, false); },
        [&](int socket) { return ReceiveNewFile(socket, floor_target, total, chunk, how); });
    if (!elapsed.ok()) return elapsed.status();
    return MiBPerSecond(total, *elapsed);
  };
  auto download_row = [&](Served* served, int64_t window) -> absl::StatusOr<double> {
    ClientContext context;
    file::DownloadOptions options;
    options.receive_window_bytes = window;
    options.checksum = Algorithm();
    const absl::Time start = absl::Now();
    auto result = file::DownloadFile(served->stub.get(), &context, "source.bin", local, options);
    if (!result.ok()) return result.status();
    if (result->received != total) return Fail("short download");
    return MiBPerSecond(total, absl::Now() - start);
  };
  auto upload_row = [&](Served* served) -> absl::StatusOr<double> {
    ClientContext context;
    file::UploadOptions options;
    options.overwrite = true;
    options.chunk_bytes = chunk;
    options.checksum = Algorithm();
    const absl::Time start = absl::Now();
    auto result = file::UploadFile(served->stub.get(), &context, source, "uploaded.bin", options);
    if (!result.ok()) return result.status();
    return MiBPerSecond(total, absl::Now() - start);
  };
  // `same_work`: the number of the raw row each framerpc row is compared with (-1: none).
  std::vector<Row> rows = {
      {1, "raw TCP bulk (floor)", [&] { return RawBulk(total, chunk); }, -1, {}},
      {2, absl::StrCat("raw TCP + the download's work (pread, ", file::AlgorithmName(Algorithm()),
                       " x2, write)"),
       [&] { return raw_row(false); }, -1, {}},
  };
  for (const DownloadConfig& config : configs) {
    rows.push_back({3,
                    "framerpc download, server hashes (cache off), client verifies + writes" +
                        config.Label(),
                    [&, config] { return download_row(config.hashing, config.window); }, 2, {}});
  }
  for (const DownloadConfig& config : configs) {
    rows.push_back({4,
                    "framerpc download, cached digest, client verifies + writes" + config.Label(),
                    [&, config] { return download_row(config.cached, config.window); }, 2, {}});
  }
  for (const DownloadConfig& config : configs) {
    rows.push_back({5, "framerpc download, cached digest, into memory, client verifies" +
                           config.Label(),
                    [&, config] {
                      return DownloadToMemory(config.cached->stub.get(), "source.bin", total,
                                              config.window, true);
                    },
                    -1, {}});
  }
  for (const DownloadConfig& config : configs) {
    rows.push_back({6, "framerpc download, cached digest, into memory, client discards "
                       "(no checksum)" + config.Label(),
                    [&, config] {
                      return DownloadToMemory(config.cached->stub.get(), "source.bin", total,
                                              config.window, false);
                    },
                    -1, {}});
  }
  for (const DownloadConfig& config : configs) {
    rows.push_back({15, "framerpc download, cached digest, into memory, client verifies in "
                        "ReadAsync callbacks (on the channel's I/O thread)" + config.Label(),
                    [&, config] {
                      return DownloadToMemoryAsync(config.cached->stub.get(), "source.bin",
                                                   total, config.window);
                    },
                    -1, {}});
  }
  rows.push_back({7, "raw TCP + the upload's work (+ fsync)", [&] { return raw_row(true); }, -1,
                  {}});
  rows.push_back({8, "framerpc upload (+ fsync, rename)", [&] { return upload_row(&cached); }, 7,
                  {}});
  rows.push_back({9, "framerpc upload, client sends no digest (server still hashes, fsyncs)",
                  [&] {
                    return UploadUnverified(cached.stub.get(), source_fd.get(), total, chunk,
                                            "uploaded.bin");
                  },
                  7, {}});
  rows.push_back({10, "framerpc upload to a root on /dev/shm (tmpfs: no disk; fsync is free)",
                  [&]() -> absl::StatusOr<double> {
                    if (!have_shm) return Fail("no /dev/shm");
                    return upload_row(&shm);
                  },
                  -1, {}});
  rows.push_back({11, "download file floor: raw TCP, pread + send of the same file",
                  download_floor_row, -1, {}});
  rows.push_back({12, "upload file floor: raw TCP, write() a new file, fsync, rename",
                  [&] { return upload_floor_row(FloorWrite::kPlain); }, -1, {}});
  rows.push_back({13, "upload file floor: raw TCP, O_DIRECT into a new file, fsync, rename",
                  [&] { return upload_floor_row(FloorWrite::kDirect); }, -1, {}});
  rows.push_back({14, "upload file floor: raw TCP, write() + write-back per 8 MiB, fsync, rename",
                  [&] { return upload_floor_row(FloorWrite::kWriteBehind); }, -1, {}});
  for (Row& row : rows) {
    if ((row.number >= 2 && row.number <= 6) || row.number == 15) row.file_floor = {11};
    if (row.number >= 7 && row.number <= 9) row.file_floor = {12, 13, 14};
  }
  const std::string selected = absl::GetFlag(FLAGS_rows);
  auto chosen = [&](int number) {
    return selected.empty() || absl::StrContains(absl::StrCat(",", selected, ","),
                                                 absl::StrCat(",", number, ","));
  };
  bool any_download = false;
  bool any_upload = false;
  for (int number = 2; number <= 15; ++number) {
    if (!chosen(number) || (number >= 11 && number <= 14)) continue;
    (number <= 6 || number == 15 ? any_download : any_upload) = true;
  }
  std::vector<size_t> active;
  for (size_t i = 0; i < rows.size(); ++i) {
    const int number = rows[i].number;
    if (number == 10 && !have_shm) continue;
    if (chosen(number) || number == 1 || (number == 11 && any_download) ||
        (number >= 12 && number <= 14 && any_upload)) {
      active.push_back(i);
    }
  }
  int code = 0;
  // Every active row runs once per round, starting one row later each round, so that no row
  // always follows the same one (a download after a file write meets a busier page cache).
  for (int round = 0; round < absl::GetFlag(FLAGS_rounds) && code == 0; ++round) {
    for (size_t k = 0; k < active.size(); ++k) {
      Row& row = rows[active[(k + static_cast<size_t>(round)) % active.size()]];
      absl::StatusOr<double> rate = row.run();
      if (!rate.ok()) {
        std::fprintf(stderr, "%s: %s\n", row.name.c_str(), rate.status().ToString().c_str());
        code = 1;
        break;
      }
      row.rates.push_back(*rate);
      std::fprintf(stderr, "round %d: %d %s: %.0f MiB/s\n", round + 1, row.number,
                   row.name.c_str(), *rate);
    }
  }
  const file::DigestCacheStats cache_stats = cached.service->digest_cache()->stats();
  if (have_shm) ::nftw(shm_dir.c_str(), RemoveEntry, 16, FTW_DEPTH | FTW_PHYS);
  if (code != 0) return code;
  PrintTable(rows, active, total, chunk, cache_stats);
  return 0;
}

int Main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  if (absl::GetFlag(FLAGS_checksum) != "xxh3" && absl::GetFlag(FLAGS_checksum) != "sha256") {
    std::fprintf(stderr, "--checksum must be xxh3 or sha256\n");
    return 1;
  }
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

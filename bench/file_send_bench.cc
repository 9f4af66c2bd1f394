// file_send_bench: ways to send a cached file over a loopback TCP connection, to decide how the
// file service's downloads read and send (docs/file_service.md, "pread or sendfile").
//
//   bazel build -c opt //bench:file_send_bench && bazel-bin/bench/file_send_bench --mib=1024
//
// Every row sends the same file (just written under --dir, so it is in the page cache) in --chunk_kib pieces; the receiver drains it with recv() into one buffer. Rows take
// turns in each of --rounds rounds; the table shows each row's median and its ratio to the first
// row. The rows:
//   pread + send                  what a raw server does: one copy out of the page cache, one
//                                 into the socket
//   pread + copy + send           the framed path today: the chunk is copied once more, into
//                                 the frame (header, envelope, attachment) that the connection
//                                 queues
//   sendfile / splice             the kernel moves page-cache pages to the socket; no user copy
//   mmap + send                   send() straight from a mapping (one copy, page faults)
// and the same with "+ SHA-256", because a download must hash every byte it sends: sendfile and
// splice then need the bytes in user space anyway (pread + SHA-256, then sendfile of the range).
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/scoped_fd.h"
#include "bench/raw_bulk.h"
#include "services/file/sha256.h"

ABSL_FLAG(int, mib, 1024, "MiB sent per row and round.");
ABSL_FLAG(int, rounds, 3, "Rounds; the table shows medians.");
ABSL_FLAG(int, chunk_kib, 256, "Bytes per read/send, in KiB.");
ABSL_FLAG(std::string, dir, "/tmp", "Where the test file is created (and removed).");

namespace framerpc::bench {
namespace {

using SendFn = std::function<absl::Status(int file, int socket)>;

absl::Status SendAll(int socket, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::send(socket, data, size, MSG_NOSIGNAL);
    if (n <= 0) return absl::InternalError(absl::StrCat("send: ", strerror(errno)));
    data += n;
    size -= static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::Status PreadAll(int file, char* buffer, size_t size, off_t offset) {
  while (size > 0) {
    const ssize_t n = ::pread(file, buffer, size, offset);
    if (n <= 0) return absl::InternalError("pread failed or file too short");
    buffer += n;
    size -= static_cast<size_t>(n);
    offset += n;
  }
  return absl::OkStatus();
}

absl::Status SendfileAll(int socket, int file, off_t offset, size_t size) {
  while (size > 0) {
    const ssize_t n = ::sendfile(socket, file, &offset, size);
    if (n <= 0) return absl::InternalError(absl::StrCat("sendfile: ", strerror(errno)));
    size -= static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

// Every variant walks the file in chunks and calls `step` for [offset, offset + size).
absl::Status ForEachChunk(size_t total, size_t chunk,
                          const std::function<absl::Status(off_t offset, size_t size)>& step) {
  for (size_t done = 0; done < total;) {
    const size_t size = std::min(chunk, total - done);
    absl::Status status = step(static_cast<off_t>(done), size);
    if (!status.ok()) return status;
    done += size;
  }
  return absl::OkStatus();
}

SendFn PreadSend(size_t total, size_t chunk, bool hash, bool extra_copy) {
  return [=](int file, int socket) {
    std::string buffer(chunk, '\0');
    std::string frame(chunk + 64, '\0');  // header and envelope room, as in a frame
    file::Sha256 sha;
    return ForEachChunk(total, chunk, [&](off_t offset, size_t size) {
      absl::Status status = PreadAll(file, buffer.data(), size, offset);
      if (!status.ok()) return status;
      if (hash) sha.Update(absl::string_view(buffer.data(), size));
      if (!extra_copy) return SendAll(socket, buffer.data(), size);
      std::memcpy(frame.data() + 64, buffer.data(), size);
      return SendAll(socket, frame.data(), size + 64);
    });
  };
}

// The hashing rows' work before the kernel sends the same bytes from the page cache: read them
// into `buffer` and hash them.
absl::Status ReadAndHash(int file, std::string* buffer, off_t offset, size_t size,
                         file::Sha256* sha) {
  absl::Status status = PreadAll(file, buffer->data(), size, offset);
  if (status.ok()) sha->Update(absl::string_view(buffer->data(), size));
  return status;
}

SendFn Sendfile(size_t total, size_t chunk, bool hash) {
  return [=](int file, int socket) {
    std::string buffer(chunk, '\0');
    file::Sha256 sha;
    return ForEachChunk(total, chunk, [&](off_t offset, size_t size) {
      if (hash) {
        absl::Status status = ReadAndHash(file, &buffer, offset, size, &sha);
        if (!status.ok()) return status;
      }
      return SendfileAll(socket, file, offset, size);
    });
  };
}

SendFn Splice(size_t total, size_t chunk, bool hash) {
  return [=](int file, int socket) {
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return absl::InternalError("pipe2 failed");
    ScopedFd read_end(pipe_fds[0]);
    ScopedFd write_end(pipe_fds[1]);
    ::fcntl(write_end.get(), F_SETPIPE_SZ, static_cast<int>(chunk));
    std::string buffer(chunk, '\0');
    file::Sha256 sha;
    return ForEachChunk(total, chunk, [&](off_t offset, size_t size) {
      if (hash) {
        absl::Status status = ReadAndHash(file, &buffer, offset, size, &sha);
        if (!status.ok()) return status;
      }
      loff_t in_offset = offset;
      for (size_t left = size; left > 0;) {
        const ssize_t in = ::splice(file, &in_offset, write_end.get(), nullptr, left, SPLICE_F_MOVE);
        if (in <= 0) return absl::InternalError(absl::StrCat("splice in: ", strerror(errno)));
        for (ssize_t moved = 0; moved < in;) {
          const ssize_t out = ::splice(read_end.get(), nullptr, socket, nullptr,
                                       static_cast<size_t>(in - moved), SPLICE_F_MOVE);
          if (out <= 0) return absl::InternalError(absl::StrCat("splice out: ", strerror(errno)));
          moved += out;
        }
        left -= static_cast<size_t>(in);
      }
      return absl::OkStatus();
    });
  };
}

SendFn MmapSend(size_t total, size_t chunk, bool hash) {
  return [=](int file, int socket) {
    void* map = ::mmap(nullptr, total, PROT_READ, MAP_SHARED, file, 0);
    if (map == MAP_FAILED) return absl::InternalError("mmap failed");
    const char* data = static_cast<const char*>(map);
    file::Sha256 sha;
    absl::Status status = ForEachChunk(total, chunk, [&](off_t offset, size_t size) {
      if (hash) sha.Update(absl::string_view(data + offset, size));
      return SendAll(socket, data + offset, size);
    });
    ::munmap(map, total);
    return status;
  };
}

absl::Status Drain(int socket, size_t total, size_t chunk) {
  std::string buffer(chunk, '\0');
  size_t received = 0;
  for (;;) {
    const ssize_t n = ::recv(socket, buffer.data(), buffer.size(), 0);
    if (n < 0) return absl::InternalError("recv failed");
    if (n == 0) break;
    received += static_cast<size_t>(n);
  }
  // Rows with the frame copy send 64 extra bytes per chunk.
  if (received < total) return absl::InternalError("transfer ended early");
  return absl::OkStatus();
}

absl::Status MakeFile(const std::string& path, size_t total) {
  ScopedFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd.valid()) return absl::InternalError(absl::StrCat("cannot create ", path));
  std::string block(1 << 20, '\0');
  for (size_t i = 0; i < block.size(); ++i) block[i] = static_cast<char>(i * 2654435761u >> 24);
  for (size_t done = 0; done < total; done += block.size()) {
    const size_t size = std::min(block.size(), total - done);
    if (::write(fd.get(), block.data(), size) != static_cast<ssize_t>(size)) {
      return absl::InternalError("write failed");
    }
  }
  return absl::OkStatus();
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

int Main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const size_t chunk = static_cast<size_t>(absl::GetFlag(FLAGS_chunk_kib)) << 10;
  const size_t total = static_cast<size_t>(absl::GetFlag(FLAGS_mib)) << 20;
  const std::string path = absl::StrCat(absl::GetFlag(FLAGS_dir), "/file_send_bench.", ::getpid());
  absl::Status made = MakeFile(path, total);
  ScopedFd file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  ::unlink(path.c_str());
  if (!made.ok() || !file.valid()) {
    std::fprintf(stderr, "setup: %s\n", made.ToString().c_str());
    return 1;
  }
  struct Row {
    const char* name;
    SendFn send;
    std::vector<double> rates;
  };
  std::vector<Row> rows = {
      {"pread + send", PreadSend(total, chunk, false, false), {}},
      {"pread + copy into a frame + send", PreadSend(total, chunk, false, true), {}},
      {"sendfile", Sendfile(total, chunk, false), {}},
      {"splice via a pipe", Splice(total, chunk, false), {}},
      {"mmap + send", MmapSend(total, chunk, false), {}},
      {"pread + SHA-256 + send", PreadSend(total, chunk, true, false), {}},
      {"pread + SHA-256 + copy into a frame + send", PreadSend(total, chunk, true, true), {}},
      {"pread + SHA-256, then sendfile", Sendfile(total, chunk, true), {}},
      {"pread + SHA-256, then splice", Splice(total, chunk, true), {}},
      {"mmap + SHA-256 + send", MmapSend(total, chunk, true), {}},
  };
  for (int round = 0; round < absl::GetFlag(FLAGS_rounds); ++round) {
    for (Row& row : rows) {
      absl::StatusOr<absl::Duration> elapsed = TimeRawTransfer(
          [&](int socket) { return row.send(file.get(), socket); },
          [&](int socket) { return Drain(socket, total, chunk); });
      if (!elapsed.ok()) {
        std::fprintf(stderr, "%s: %s\n", row.name, elapsed.status().ToString().c_str());
        return 1;
      }
      row.rates.push_back(MiBPerSecond(total, *elapsed));
    }
  }
  std::printf("\n%zu MiB from the page cache over loopback TCP, %zu KiB pieces, median of %d\n\n",
              total >> 20, chunk >> 10, absl::GetFlag(FLAGS_rounds));
  std::printf("| sender | MiB/s | x pread + send |\n|---|---:|---:|\n");
  const double base = Median(rows[0].rates);
  for (const Row& row : rows) {
    const double rate = Median(row.rates);
    std::printf("| %s | %.0f | %.2f |\n", row.name, rate, rate / base);
  }
  return 0;
}

}  // namespace
}  // namespace framerpc::bench

int main(int argc, char** argv) { return framerpc::bench::Main(argc, argv); }

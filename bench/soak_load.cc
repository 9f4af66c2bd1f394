#include "bench/soak_load.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <deque>
#include <fstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "proto/echo.frpc.h"
#include "rpc/channel.h"
#include "services/file/file_client.h"
#include "transport/frame_codec.h"
#include "transport/socket_address.h"
#include "transport/socket_ops.h"

namespace framerpc::bench {
namespace {

constexpr absl::Duration kCallTimeout = absl::Seconds(60);
constexpr absl::Duration kSilentEvery = absl::Milliseconds(500);

std::string SayFrame() {
  Envelope envelope;
  envelope.set_kind(REQUEST);
  envelope.set_call_id(1);
  envelope.set_method("/framerpc.echo.EchoService/Say");
  echo::SayRequest request;
  request.set_text("and then silence");
  std::string frame;
  (void)EncodeFrame(envelope, &request, {}, FrameLimits{}, &frame);
  return frame;
}

// One echo call on a raw connection, by hand: the status of its reply.
absl::Status EchoByHand(int fd, absl::string_view frame) {
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::send(fd, frame.data(), frame.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(frame.size())) {
    return absl::UnavailableError("send failed");
  }
  std::string input;
  char buffer[4096];
  for (;;) {
    Frame reply;
    const DecodeResult result = DecodeFrame(input, FrameLimits{}, &reply);
    if (result.outcome == DecodeOutcome::kError) return result.error;
    if (result.outcome == DecodeOutcome::kFrame) {
      return absl::Status(static_cast<absl::StatusCode>(reply.envelope.status_code()),
                          reply.envelope.status_message());
    }
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) return absl::UnavailableError("no reply");
    input.append(buffer, static_cast<size_t>(n));
  }
}

}  // namespace

SoakLoad::SoakLoad(SoakLoadOptions options) : options_(std::move(options)) {}

SoakLoad::~SoakLoad() { Stop(); }

absl::Status SoakLoad::Start() {
  const std::string source = options_.local_dir + "/upload-source.bin";
  {
    std::ofstream out(source, std::ios::binary | std::ios::trunc);
    for (size_t i = 0; i < options_.upload_bytes; ++i) out.put(static_cast<char>(i * 131 + 7));
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", source));
  }
  running_ = true;
  for (int i = 0; i < options_.echo_connections; ++i)
    threads_.emplace_back([this] { EchoWorker(); });
  threads_.emplace_back([this] { DownloadWorker(); });
  threads_.emplace_back([this] { UploadWorker(); });
  threads_.emplace_back([this] { CancellingWorker(); });
  threads_.emplace_back([this] { SilentWorker(); });
  return absl::OkStatus();
}

void SoakLoad::Stop() {
  if (!running_.exchange(false)) return;
  stop_.Notify();
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
}

SoakCounts SoakLoad::Counts() const {
  SoakCounts counts;
  counts.ok = ok_.load();
  counts.cancelled_on_purpose = cancelled_on_purpose_.load();
  counts.file_bytes = file_bytes_.load();
  for (size_t i = 0; i < errors_.size(); ++i) counts.errors[i] = errors_[i].load();
  std::lock_guard<std::mutex> lock(mu_);
  counts.first_message = first_message_;
  return counts;
}

void SoakLoad::Record(const absl::Status& status, uint64_t file_bytes) {
  if (status.ok()) {
    ok_.fetch_add(1);
    file_bytes_.fetch_add(file_bytes);
    return;
  }
  size_t code = static_cast<size_t>(status.code());
  if (code >= errors_.size()) code = static_cast<size_t>(absl::StatusCode::kUnknown);
  if (errors_[code].fetch_add(1) == 0) {
    std::lock_guard<std::mutex> lock(mu_);
    first_message_[code] = std::string(status.message());
  }
}

void SoakLoad::RecordCancelled(const absl::Status& status) {
  if (absl::IsCancelled(status)) {
    cancelled_on_purpose_.fetch_add(1);
  } else {
    Record(status);  // finished before the cancel arrived, or failed otherwise
  }
}

void SoakLoad::EchoWorker() {
  absl::StatusOr<std::unique_ptr<Channel>> channel = Channel::Create(options_.address);
  if (!channel.ok()) return Record(channel.status());
  echo::EchoService::Stub stub(channel->get());
  echo::SayRequest small;
  small.set_text("soak");
  echo::SayRequest large;
  large.set_text(std::string(size_t{256} << 10, 's'));
  for (uint64_t i = 0; running(); ++i) {
    ClientContext context;
    context.set_timeout(kCallTimeout);
    echo::SayReply reply;
    Record(stub.Say(&context, i % 100 == 99 ? large : small, &reply));
  }
}

void SoakLoad::DownloadWorker() {
  absl::StatusOr<std::unique_ptr<Channel>> channel = Channel::Create(options_.address);
  if (!channel.ok()) return Record(channel.status());
  file::FileService::Stub stub(channel->get());
  const std::string local = options_.local_dir + "/download.bin";
  for (int i = 0; running(); ++i) {
    ClientContext context;
    context.set_timeout(kCallTimeout);
    const std::string remote = absl::StrCat("soak/download-", i % options_.download_files, ".bin");
    absl::StatusOr<file::DownloadResult> result =
        file::DownloadFile(&stub, &context, remote, local, file::DownloadOptions());
    Record(result.status(), result.ok() ? result->received : 0);
  }
}

void SoakLoad::UploadWorker() {
  absl::StatusOr<std::unique_ptr<Channel>> channel = Channel::Create(options_.address);
  if (!channel.ok()) return Record(channel.status());
  file::FileService::Stub stub(channel->get());
  file::UploadOptions options;
  options.overwrite = true;
  for (int i = 0; running(); ++i) {
    ClientContext context;
    context.set_timeout(kCallTimeout);
    absl::StatusOr<file::UploadResult> result =
        file::UploadFile(&stub, &context, options_.local_dir + "/upload-source.bin",
                         absl::StrCat("soak/upload-", i % 2, ".bin"), options);
    Record(result.status(), result.ok() ? result->size : 0);
  }
}

// Downloads and uploads, in turn, each cancelled once half of it has gone.
void SoakLoad::CancellingWorker() {
  absl::StatusOr<std::unique_ptr<Channel>> channel = Channel::Create(options_.cancel_address);
  if (!channel.ok()) return Record(channel.status());
  file::FileService::Stub stub(channel->get());
  const std::string local = options_.local_dir + "/cancelled.bin";
  for (int i = 0; running(); ++i) {
    ClientContext context;
    context.set_timeout(kCallTimeout);
    const file::ProgressFn halfway = [&context](uint64_t done, uint64_t total) {
      if (done >= total / 2) context.TryCancel();
    };
    if (i % 2 == 0) {
      file::DownloadOptions options;
      options.progress = halfway;
      RecordCancelled(
          file::DownloadFile(&stub, &context, "soak/download-0.bin", local, options).status());
    } else {
      file::UploadOptions options;
      options.overwrite = true;
      options.progress = halfway;
      RecordCancelled(file::UploadFile(&stub, &context, options_.local_dir + "/upload-source.bin",
                                       "soak/upload-cancelled.bin", options)
                          .status());
    }
  }
}

// Connections that go silent: every other one from the start, the others after one call.
void SoakLoad::SilentWorker() {
  const absl::StatusOr<SocketAddress> address = SocketAddress::Parse(options_.address);
  if (!address.ok()) return Record(address.status());
  const std::string say = SayFrame();
  std::deque<ScopedFd> held;
  for (int i = 0; running(); ++i) {
    absl::StatusOr<ScopedFd> fd = ConnectBlocking(*address);
    if (fd.ok()) {
      if (i % 2 == 1) Record(EchoByHand(fd->get(), say));
      held.push_back(*std::move(fd));
      while (held.size() > static_cast<size_t>(options_.silent_clients)) held.pop_front();
    } else {
      Record(fd.status());
    }
    stop_.WaitForNotificationWithTimeout(kSilentEvery);
  }
}

}  // namespace framerpc::bench

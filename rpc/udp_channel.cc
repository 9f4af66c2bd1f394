#include "rpc/udp_channel.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "rpc/call_access.h"
#include "rpc/client_frames.h"
#include "transport/event_loop_thread.h"
#include "base/scoped_fd.h"
#include "transport/watcher.h"

namespace framerpc {
namespace {

class UdpChannel final : public Channel {
 public:
  UdpChannel(std::string target, ScopedFd fd, ChannelOptions options)
      : target_(std::move(target)), fd_(std::move(fd)), options_(options) {
    loop()->RunInLoopAndWait([this] {
      watcher_ = std::make_unique<Watcher>(loop(), fd_.get());
      watcher_->set_read_callback([this] { OnReadable(); });
      watcher_->EnableReading();
    });
  }

  ~UdpChannel() override {
    loop()->RunInLoopAndWait([this] {
      std::vector<uint64_t> ids;
      for (const auto& [id, call] : calls_) ids.push_back(id);
      for (uint64_t id : ids) Complete(id, absl::CancelledError("channel destroyed"));
      watcher_->Remove();
    });
    loop_thread_.Stop();
  }

  void StartCall(absl::string_view method, ClientContext* context,
                 const google::protobuf::MessageLite& request,
                 google::protobuf::MessageLite* response, DoneCallback done) override {
    const uint64_t id = next_call_id_.fetch_add(1, std::memory_order_relaxed);
    absl::Time deadline = context->deadline();
    if (deadline == absl::InfiniteFuture()) deadline = absl::Now() + options_.udp_default_timeout;
    FrameLimits limits = options_.limits;
    limits.max_body_bytes = std::min<uint32_t>(limits.max_body_bytes, kMaxDatagram - kFrameHeaderSize);
    std::string frame;
    absl::Status encoded =
        EncodeRequestFrame(id, method, *context, deadline, request, limits, &frame);
    ClientCallAccess::Bind(context, this, id);
    loop()->RunInLoop([this, id, context, response, deadline, done = std::move(done),
                       frame = std::move(frame), encoded = std::move(encoded)]() mutable {
      absl::Status refused = encoded;
      if (refused.ok() && context->cancel_requested()) {
        refused = absl::CancelledError("cancelled before start");
      } else if (refused.ok() && ::send(fd_.get(), frame.data(), frame.size(), 0) < 0) {
        refused = absl::UnavailableError(
            absl::StrCat("send to ", target_, " failed: ", std::strerror(errno)));
      }
      if (!refused.ok()) {
        ClientCallAccess::Unbind(context);
        return done(refused);
      }
      Pending& pending = calls_[id];
      pending.context = context;
      pending.response = response;
      pending.done = std::move(done);
      pending.timer = loop()->RunAt(deadline, [this, id] {
        auto it = calls_.find(id);
        if (it == calls_.end()) return;
        it->second.timer = 0;
        Complete(id, absl::DeadlineExceededError(
                         "deadline exceeded (no UDP reply: the request or reply may be lost)"));
      });
    });
  }

  void CancelCall(uint64_t call_id) override {
    loop()->RunInLoop(
        [this, call_id] { Complete(call_id, absl::CancelledError("cancelled by the client")); });
  }

  const std::string& target() const override { return target_; }

 private:
  static constexpr size_t kMaxDatagram = 65507;

  struct Pending {
    ClientContext* context = nullptr;
    google::protobuf::MessageLite* response = nullptr;
    DoneCallback done;
    TimerId timer = 0;
  };

  EventLoop* loop() const { return loop_thread_.loop(); }

  void OnReadable() {
    std::string datagram(kMaxDatagram + 1, '\0');
    for (int i = 0; i < 64; ++i) {
      const ssize_t n = ::recv(fd_.get(), datagram.data(), datagram.size(), MSG_TRUNC);
      if (n < 0) return;  // EAGAIN; or an ICMP error (e.g. ECONNREFUSED): calls time out.
      if (static_cast<size_t>(n) > kMaxDatagram) continue;
      Frame frame;
      DecodeResult result =
          DecodeFrame(absl::string_view(datagram.data(), static_cast<size_t>(n)), options_.limits, &frame);
      if (result.outcome != DecodeOutcome::kFrame || result.consumed != static_cast<size_t>(n) ||
          frame.envelope.kind() != RESPONSE) {
        continue;  // Not a reply we can use; the call will time out.
      }
      OnResponse(std::move(frame));
    }
  }

  void OnResponse(Frame frame) {
    const uint64_t id = frame.envelope.call_id();
    auto it = calls_.find(id);
    if (it == calls_.end()) return;  // Late or duplicate.
    Complete(id, FinishCallFromResponse(frame, it->second.context, it->second.response));
  }

  void Complete(uint64_t id, absl::Status status) {
    auto it = calls_.find(id);
    if (it == calls_.end()) return;
    Pending pending = std::move(it->second);
    calls_.erase(it);
    if (pending.timer != 0) loop()->CancelTimer(pending.timer);
    ClientCallAccess::Unbind(pending.context);
    pending.done(std::move(status));
  }

  const std::string target_;
  ScopedFd fd_;
  const ChannelOptions options_;
  std::atomic<uint64_t> next_call_id_{1};
  EventLoopThread loop_thread_;
  std::unique_ptr<Watcher> watcher_;               // loop thread
  absl::flat_hash_map<uint64_t, Pending> calls_;  // loop thread
};

}  // namespace

absl::StatusOr<std::unique_ptr<Channel>> CreateUdpChannel(std::string target,
                                                         const SocketAddress& address,
                                                         const ChannelOptions& options) {
  if (address.is_unix()) {
    return absl::InvalidArgumentError(absl::StrCat("UDP needs an IP address: '", target, "'"));
  }
  ScopedFd fd(::socket(address.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return absl::InternalError(absl::StrCat("UDP socket: ", std::strerror(errno)));
  }
  // Connected: the kernel then delivers only datagrams from the server.
  if (::connect(fd.get(), address.sockaddr_ptr(), address.length()) != 0) {
    return absl::UnavailableError(absl::StrCat("connect UDP socket to ", target, ": ",
                                               std::strerror(errno)));
  }
  return std::unique_ptr<Channel>(new UdpChannel(std::move(target), std::move(fd), options));
}

}  // namespace framerpc

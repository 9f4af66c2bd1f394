#include "rpc/udp_server.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "transport/socket_ops.h"

namespace framerpc {
namespace {

FrameLimits DatagramLimits(FrameLimits limits, size_t max_datagram_bytes) {
  const size_t max_body = max_datagram_bytes > kFrameHeaderSize
                              ? max_datagram_bytes - kFrameHeaderSize
                              : 0;
  limits.max_body_bytes =
      static_cast<uint32_t>(std::min<size_t>(limits.max_body_bytes, max_body));
  return limits;
}

absl::Status ErrnoStatus(absl::string_view what, const SocketAddress& address, int err) {
  const std::string message =
      absl::StrCat(what, " ", address.ToString(), ": ", std::strerror(err));
  if (err == EADDRINUSE) return absl::AlreadyExistsError(message);
  if (err == EACCES || err == EPERM) return absl::PermissionDeniedError(message);
  if (err == EADDRNOTAVAIL || err == EAFNOSUPPORT) return absl::UnavailableError(message);
  if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
    return absl::ResourceExhaustedError(message);
  }
  return absl::InternalError(message);
}

// True for exactly one complete REQUEST frame that fills `bytes` and names a call.
bool IsOneRequest(absl::string_view bytes, const FrameLimits& limits, Frame* frame) {
  const DecodeResult result = DecodeFrame(bytes, limits, frame);
  return result.outcome == DecodeOutcome::kFrame && result.consumed == bytes.size() &&
         frame->envelope.kind() == REQUEST && frame->envelope.call_id() != 0;
}

}  // namespace

UdpServer::UdpServer(EventLoop* loop, Dispatcher* dispatcher, UdpServerOptions options)
    : loop_(loop),
      dispatcher_(dispatcher),
      options_(options),
      limits_(DatagramLimits(dispatcher->limits(), options.max_datagram_bytes)) {}

UdpServer::~UdpServer() { Stop(); }

absl::Status UdpServer::Bind(absl::string_view address) {
  if (state_ != State::kNew) return absl::FailedPreconditionError("UdpServer is already bound");
  if (options_.max_datagram_bytes <= kFrameHeaderSize ||
      options_.max_datagram_bytes > kMaxUdpPayloadBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_datagram_bytes must be in (", kFrameHeaderSize, ", ",
                     kMaxUdpPayloadBytes, "], not ", options_.max_datagram_bytes));
  }
  if (options_.max_datagrams_per_wake < 1) {
    return absl::InvalidArgumentError("max_datagrams_per_wake must be at least 1");
  }
  absl::StatusOr<SocketAddress> parsed = SocketAddress::Parse(address);
  if (!parsed.ok()) return parsed.status();
  if (parsed->family() != AF_INET && parsed->family() != AF_INET6) {
    return absl::InvalidArgumentError(
        absl::StrCat("UDP needs an IPv4 or IPv6 address, not '", address, "'"));
  }
  ScopedFd fd(::socket(parsed->family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return ErrnoStatus("socket for", *parsed, errno);
  if (parsed->family() == AF_INET6) {
    int one = 1;
    ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  }
  if (::bind(fd.get(), parsed->sockaddr_ptr(), parsed->length()) != 0) {
    return ErrnoStatus("bind", *parsed, errno);
  }
  local_address_ = LocalAddress(fd.get());
  fd_ = std::move(fd);
  receive_buffer_.resize(options_.max_datagram_bytes + 1);
  state_ = State::kBound;
  return absl::OkStatus();
}

absl::Status UdpServer::Start() {
  if (state_ != State::kBound) {
    return absl::FailedPreconditionError("UdpServer::Start needs a bound, unstarted server");
  }
  state_ = State::kStarted;
  loop_->RunInLoopAndWait([this] {
    watcher_ = std::make_unique<Watcher>(loop_, fd_.get());
    watcher_->set_read_callback([this] { OnReadable(); });
    watcher_->set_error_callback([this] { OnError(); });
    watcher_->EnableReading();
  });
  return absl::OkStatus();
}

void UdpServer::Stop() {
  if (state_ == State::kStopped) return;
  if (state_ == State::kStarted) {
    loop_->RunInLoopAndWait([this] {
      watcher_->Remove();
      watcher_.reset();
    });
  }
  fd_.reset();
  state_ = State::kStopped;
}

void UdpServer::OnReadable() {
  for (int i = 0; i < options_.max_datagrams_per_wake; ++i) {
    sockaddr_storage peer{};
    iovec iov{receive_buffer_.data(), receive_buffer_.size()};
    msghdr msg{};
    msg.msg_name = &peer;
    msg.msg_namelen = sizeof(peer);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    // MSG_TRUNC: return the datagram's real length even when the buffer is shorter.
    const ssize_t n = ::recvmsg(fd_.get(), &msg, MSG_TRUNC);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      continue;  // EINTR, or a queued ICMP error that this call consumed.
    }
    datagrams_received_.fetch_add(1, std::memory_order_relaxed);
    const size_t length = static_cast<size_t>(n);
    if (length > options_.max_datagram_bytes || (msg.msg_flags & MSG_TRUNC) != 0) {
      dropped_oversized_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    OnDatagram(absl::string_view(receive_buffer_.data(), length),
               SocketAddress::FromSockaddr(reinterpret_cast<const sockaddr*>(&peer),
                                           msg.msg_namelen));
  }
}

void UdpServer::OnError() {
  // A pending socket error (from ICMP) would otherwise keep epoll reporting it: read and clear it.
  int err = 0;
  socklen_t len = sizeof(err);
  ::getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &err, &len);
}

void UdpServer::OnDatagram(absl::string_view bytes, const SocketAddress& peer) {
  Frame frame;
  if (!IsOneRequest(bytes, limits_, &frame)) {
    dropped_malformed_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const uint64_t id = frame.envelope.call_id();
  if (frame.envelope.timeout_us() < 0) {
    SendReply(id, peer,
              dispatcher_->ErrorResponse(id, absl::InvalidArgumentError("negative timeout_us")));
    return;
  }
  // A datagram's source address is not authenticated; UDP serves nothing that relies on it.
  PeerIdentity identity;
  identity.local = peer.is_loopback();
  std::shared_ptr<ServerCall> call = Dispatcher::NewCall(std::move(frame), peer.ToString(), identity);
  call->transport = CallTransport::kUdp;
  // Not offloaded: the reply is sent before Dispatch returns, so the socket is still open.
  dispatcher_->Dispatch(std::move(call), /*allow_offload=*/false,
                        [this, peer](std::shared_ptr<ServerCall> done, std::string reply) {
                          SendReply(done->call_id, peer, std::move(reply));
                        });
}

void UdpServer::SendReply(uint64_t call_id, const SocketAddress& peer, std::string frame) {
  if (frame.size() > options_.max_datagram_bytes) {
    frame = dispatcher_->ErrorResponse(
        call_id, absl::ResourceExhaustedError(absl::StrCat(
                     "reply of ", frame.size(), " bytes exceeds the UDP datagram limit of ",
                     options_.max_datagram_bytes)));
  }
  if (frame.size() > options_.max_datagram_bytes) {
    send_failures_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const ssize_t n = ::sendto(fd_.get(), frame.data(), frame.size(), MSG_DONTWAIT | MSG_NOSIGNAL,
                             peer.sockaddr_ptr(), peer.length());
  if (n < 0 || static_cast<size_t>(n) != frame.size()) {
    send_failures_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  replies_sent_.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace framerpc

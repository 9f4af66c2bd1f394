// UdpServer: serves the unary methods of a Dispatcher over UDP, one frame per datagram, as in the
// classic datagram echo lesson.
//
//   framerpc::Dispatcher dispatcher(FrameLimits{}, /*worker_threads=*/1);
//   dispatcher.AddService(&echo);
//   framerpc::UdpServer udp(loop, &dispatcher, UdpServerOptions{});
//   FRPC_RETURN_IF_ERROR(udp.Bind("127.0.0.1:0"));   // or "[::1]:0"
//   FRPC_RETURN_IF_ERROR(udp.Start());
//   ... udp.local_address() ...
//   udp.Stop();
//
// Wire rules. A datagram is exactly one framerpc frame (docs/protocol.md) of kind REQUEST with a
// non-zero call id; the reply is exactly one RESPONSE frame, sent to the datagram's source
// address. There is no connection, no CANCEL, no GOAWAY and no streaming. UDP may lose, duplicate
// or reorder datagrams: retrying is the client's business.
//
// Hostile input. The source address of a datagram can be forged, so a datagram that is not a
// well-formed request gets no reply at all (a reply would let an attacker aim this server at a
// victim). Such datagrams are dropped and counted:
//   dropped_oversized  longer than max_datagram_bytes. The real length is learned with MSG_TRUNC,
//                      so an oversized datagram is never mistaken for its first
//                      max_datagram_bytes bytes (the truncation pitfall of plain recvfrom).
//   dropped_malformed  anything else that is not exactly one complete REQUEST frame with a call id:
//                      an empty datagram, bytes that do not decode, a partial frame, trailing bytes
//                      or a second frame, another frame kind, call id 0.
// A well-formed request always gets a RESPONSE (an error status included): UNIMPLEMENTED for an
// unknown method, INVALID_ARGUMENT for a negative timeout_us or an unparseable message, and
// RESOURCE_EXHAUSTED when the handler's reply would not fit in max_datagram_bytes.
//
// Calls run inline on the loop thread (services added with run_inline = false too), so handlers
// must not block. A timeout_us in the request sets the handler's ServerContext::deadline(); as the
// reply is produced before the next datagram is read, no timer is armed.
//
// Ownership and threading. `loop` and `dispatcher` are not owned and must outlive this object.
// Bind() must precede Start(); Bind(), Start() and Stop() are called from one thread at a time
// (any thread: Start() and Stop() run their work on the loop and wait for it, so the loop must be
// running when they are called from another thread). local_address() and the counters are
// thread-safe. The destructor calls Stop().
#ifndef FRAMERPC_RPC_UDP_SERVER_H_
#define FRAMERPC_RPC_UDP_SERVER_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "rpc/dispatcher.h"
#include "transport/event_loop.h"
#include "transport/frame_codec.h"
#include "base/scoped_fd.h"
#include "transport/socket_address.h"
#include "transport/watcher.h"

namespace framerpc {

// The largest UDP payload over IPv4 (65535 - 20 byte IP header - 8 byte UDP header).
inline constexpr size_t kMaxUdpPayloadBytes = 65507;

struct UdpServerOptions {
  // Largest datagram accepted and largest reply sent. Must be in (kFrameHeaderSize,
  // kMaxUdpPayloadBytes]; a smaller value keeps replies under a path MTU (e.g. 1472 for Ethernet).
  size_t max_datagram_bytes = kMaxUdpPayloadBytes;
  // Datagrams read per readiness report before the loop serves its other sockets (fairness).
  int max_datagrams_per_wake = 64;
};

class UdpServer {
 public:
  UdpServer(EventLoop* loop, Dispatcher* dispatcher, UdpServerOptions options = {});
  ~UdpServer();
  UdpServer(const UdpServer&) = delete;
  UdpServer& operator=(const UdpServer&) = delete;

  // Binds a non-blocking UDP socket to "host:port" or "[v6]:port" (port 0 picks a free port).
  // INVALID_ARGUMENT for a bad address, a Unix address or bad options; FAILED_PRECONDITION if
  // already bound; the bind error otherwise (e.g. ALREADY_EXISTS for a port in use).
  absl::Status Bind(absl::string_view address);
  // Starts reading datagrams. FAILED_PRECONDITION unless bound and not yet started or stopped.
  absl::Status Start();
  // Stops reading and closes the socket; later datagrams are refused by the kernel. Final and
  // idempotent. Returns once the loop no longer touches this object.
  void Stop();

  // The bound address, with the real port for port 0. Valid after a successful Bind().
  const SocketAddress& local_address() const { return local_address_; }

  // Every datagram read, including the dropped ones.
  uint64_t datagrams_received() const {
    return datagrams_received_.load(std::memory_order_relaxed);
  }
  uint64_t dropped_oversized() const { return dropped_oversized_.load(std::memory_order_relaxed); }
  uint64_t dropped_malformed() const { return dropped_malformed_.load(std::memory_order_relaxed); }
  // RESPONSE datagrams handed to the kernel.
  uint64_t replies_sent() const { return replies_sent_.load(std::memory_order_relaxed); }
  // Replies lost: sendto() failed (e.g. a full socket buffer), or not even an error fits the limit.
  uint64_t send_failures() const { return send_failures_.load(std::memory_order_relaxed); }

 private:
  enum class State { kNew, kBound, kStarted, kStopped };

  // Loop thread only.
  void OnReadable();
  void OnError();
  void OnDatagram(absl::string_view bytes, const SocketAddress& peer);
  // Thread-safe (a sendto and counters). Replaces a reply over the limit with an error RESPONSE.
  void SendReply(uint64_t call_id, const SocketAddress& peer, std::string frame);

  EventLoop* const loop_;
  Dispatcher* const dispatcher_;
  const UdpServerOptions options_;
  // The dispatcher's limits, with the body capped by the datagram limit.
  const FrameLimits limits_;

  State state_ = State::kNew;  // Touched only by Bind/Start/Stop.
  ScopedFd fd_;
  SocketAddress local_address_;
  // Loop thread only, between Start() and Stop().
  std::unique_ptr<Watcher> watcher_;
  // One byte more than the limit: a second, independent witness of an oversized datagram should
  // MSG_TRUNC ever fail to report the real length.
  std::string receive_buffer_;

  std::atomic<uint64_t> datagrams_received_{0};
  std::atomic<uint64_t> dropped_oversized_{0};
  std::atomic<uint64_t> dropped_malformed_{0};
  std::atomic<uint64_t> replies_sent_{0};
  std::atomic<uint64_t> send_failures_{0};
};

}  // namespace framerpc

#endif  // FRAMERPC_RPC_UDP_SERVER_H_

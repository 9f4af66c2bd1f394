// Connection: one established byte-stream socket (TCP or Unix) on one EventLoop. It moves bytes;
// it knows nothing of frames or RPC.
//
// Lifetime: shared. The owner (a server's connection table or a client channel) holds one
// reference, the loop holds one while a callback runs, and threads that may still Send() hold
// theirs; the socket is closed when the last reference goes. Shared ownership is the point here:
// a worker thread finishing a call must be able to reply to, or find closed, a connection the
// loop may drop at any moment.
//
// Threading: Send(), Shutdown(), SendAndClose(), ForceClose() and queued_output_bytes() are safe
// from any thread. Everything else, and every callback, runs on the connection's loop thread.
//
// Output: Send() from a thread other than the loop's writes to the socket itself when nothing is
// queued ahead of it (as brpc does), so a worker streaming data costs no wake-up of the loop and no
// copy into the queue; only what the socket does not take at once is queued for the loop. Sends
// from the loop thread are queued and written together, one writev per batch of events. Either
// way, bytes leave in the order their Send() calls took output_mu_.
//
// Protected connections: with a RecordLayer (a TLS session whose handshake is done), the same
// paths read and write through it instead of the socket. The layer is called only under
// output_mu_ (reads too), since a TLS session is one object for both directions. Small pieces of
// output are gathered into one record of up to 16 KiB, and the records of a batch leave together
// (RecordLayer::Cork, the writev of the plain path); a large piece is written from where it is.
// Records the layer has taken and the socket not yet (at most 256 KiB for TLS) are not counted in
// queued_output_bytes(), but the output is not drained until they are sent. Graceful closes send
// close_notify first. A layer that owns its transport (an in-memory pipe, transport/memory_pipe.h)
// carries the bytes itself, and the fd only tells the loop when to read.
#ifndef FRAMERPC_TRANSPORT_CONNECTION_H_
#define FRAMERPC_TRANSPORT_CONNECTION_H_

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "base/scoped_fd.h"
#include "transport/buffer.h"
#include "transport/byte_budget.h"
#include "transport/event_loop.h"
#include "transport/output_queue.h"
#include "transport/record_layer.h"
#include "transport/socket_address.h"
#include "transport/watcher.h"

namespace framerpc {

class Connection;
using ConnectionPtr = std::shared_ptr<Connection>;

struct ConnectionOptions {
  // When queued output exceeds this, the watermark callback fires with `true`; when it drains
  // to half of it, with `false`. Users stop producing (e.g. stop reading requests) in between.
  size_t output_high_water_bytes = 16u << 20;
  // Largest single read from the socket.
  size_t max_read_bytes = 256u << 10;
  // When set, queued output is also counted against this budget (shared by many connections,
  // which must not outlive it); the owner decides what to do when it is over.
  ByteBudget* output_budget = nullptr;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // New input is in `buffer`; consume what was used and leave the rest.
  using DataCallback = std::function<void(const ConnectionPtr&, Buffer* buffer)>;
  // The connection is closed (peer closed or reset, error, or ForceClose). Called once.
  using CloseCallback = std::function<void(const ConnectionPtr&, const absl::Status& reason)>;
  using WatermarkCallback = std::function<void(const ConnectionPtr&, bool above_high_water)>;

  Connection(EventLoop* loop, ScopedFd fd, SocketAddress peer, ConnectionOptions options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void set_data_callback(DataCallback cb) { data_callback_ = std::move(cb); }
  void set_close_callback(CloseCallback cb) { close_callback_ = std::move(cb); }
  void set_watermark_callback(WatermarkCallback cb) { watermark_callback_ = std::move(cb); }

  // Before Start(): reads and writes go through `layer` (e.g. a TLS session over this
  // connection's socket, its handshake done) from now on.
  void set_record_layer(std::unique_ptr<RecordLayer> layer) { record_ = std::move(layer); }
  // The record layer, null if none. Loop thread; for reading what it established (the peer).
  RecordLayer* record_layer() const { return record_.get(); }

  // Loop thread. Starts reading; set the callbacks first.
  void Start();

  // Writes `bytes` after everything sent before. Thread-safe. Output queued on the loop thread
  // within one batch of events is written with a single writev; another thread writes directly
  // when nothing is queued (see Output above). Dropped silently once Shutdown(), SendAndClose()
  // or ForceClose() has been called (from any thread), or the connection has closed.
  void Send(std::string bytes);
  // Sends `head` then `tail`, as Send(head + tail) would. From another thread, a direct write takes
  // both from where they are (one sendmsg with two buffers), and `tail` is copied only if the
  // socket does not take it all; from the loop thread it is always copied into the queue. `tail`
  // need only live until this returns.
  void Send(std::string head, absl::string_view tail);
  // The same with a tail it takes over: on the loop thread, both are queued as they are and
  // written with one writev, so that a large tail (a reply's attachment) is never copied; from
  // another thread, as Send(head, tail) above.
  void SendOwned(std::string head, std::string tail);
  // Closes the write side once queued output is written. Thread-safe; later sends are dropped.
  void Shutdown();
  // Closes gracefully: writes the queued output and then `bytes` (e.g. a final error frame),
  // shuts the write side, and closes. If the peer has sent input that was never read, it first
  // reads and discards until the peer closes or `linger` passes: closing with unread input makes
  // the kernel send a reset, which can destroy the last frames before the peer reads them. With
  // nothing unread it closes as soon as the output is written. No data callback runs after this.
  // Thread-safe.
  void SendAndClose(std::string bytes, absl::Status reason,
                    absl::Duration linger = absl::Seconds(2));
  // Closes now, dropping queued output. Thread-safe.
  void ForceClose(absl::Status reason);

  // Loop thread: flow control of input.
  void StopReading();
  void StartReading();
  // Loop thread: runs the data callback again on input already buffered but left unconsumed,
  // e.g. after a pause for backpressure. No-op when nothing is buffered (readable, or a
  // completed diversion: Buffer::BeginDivert).
  void RedeliverInput();
  // Loop thread. Gives back the memory an idle connection's buffers hold: the input buffer if
  // nothing unconsumed is in it, the output queue's (and record stage's) if nothing is queued,
  // and the record layer's (RecordLayer::ReleaseIdleBuffers). The next bytes in or out allocate
  // them again. For an owner that knows the connection is quiet (a server's, after
  // ConnectionTimeoutOptions::release_buffers).
  void ReleaseIdleBuffers();
  // Loop thread: bytes of buffer storage held now (input buffer and output queue), for tests.
  size_t buffer_bytes_held();
  // Loop thread: true from the watermark callback's `true` until its `false`.
  bool above_high_water() const { return above_high_water_; }

  bool closed() const { return state_ == State::kClosed; }
  // Output accepted by Send() and not yet written. Any thread.
  size_t queued_output_bytes() const { return queued_bytes_.load(std::memory_order_relaxed); }
  const SocketAddress& peer() const { return peer_; }
  EventLoop* loop() const { return loop_; }

 private:
  enum class State { kOpen, kShuttingDown, kLingering, kClosed };

  // Queues `bytes`, then `tail` if not empty, as pieces of their own (no copy).
  void SendInLoop(std::string bytes, std::string tail = std::string());
  // Another thread's Send(): writes at once if nothing is queued, queues the rest.
  void SendDirect(std::string head, absl::string_view tail);
  void HandleRead();
  // HandleRead through record_.
  void HandleRecordsRead();
  void HandleWrite();
  // Requires output_mu_. Writes queued output through record_ until it is all written or the
  // layer must wait; a failure in `*error`.
  void FlushRecordsLocked(absl::Status* error);
  // The same, record by record, without the batching.
  void WriteRecordsLocked(absl::Status* error);
  // Requires output_mu_ and nothing queued. Writes `*head` then `*tail` through record_; when
  // they are small, the tail is first appended to the head (and *tail emptied) to make one
  // record. Returns the bytes taken. A failure in `*error`.
  size_t WriteRecordsDirectLocked(std::string* head, absl::string_view* tail,
                                  absl::Status* error);
  // Closes the write side: close_notify through record_ first, if there is one.
  void ShutdownWrite();
  void HandleClose(absl::Status reason);
  void Flush();
  // Fires the watermark callback on a crossing of the high or the low water mark.
  void UpdateWatermark();
  // The same, for `queued` bytes just read under output_mu_.
  void FireWatermark(size_t queued);
  // Stops accepting output: later Send() calls are dropped. Requires output_mu_.
  void CloseOutputLocked() { output_open_ = false; }
  // Counts `n` more (less) queued bytes, in queued_bytes_ and the output budget. Require
  // output_mu_. AddQueuedLocked returns the new total.
  size_t AddQueuedLocked(size_t n);
  void SubtractQueuedLocked(size_t n);
  std::string SocketErrorText() const;
  bool OutputEmpty();
  // Input the peer sent that is not yet read (in the socket, or in a layer that owns its
  // transport); true when that cannot be told.
  bool InputPending();
  // Lingering only: closes if the output is written and nothing unread is pending.
  void CloseIfDrained();
  // Runs the data callback on the buffered input, then flushes what it sent.
  void RunDataCallback();

  EventLoop* const loop_;
  // Reset on the loop thread under output_mu_; other threads use it only under output_mu_ while
  // output_open_.
  ScopedFd fd_;
  const SocketAddress peer_;
  const ConnectionOptions options_;
  std::unique_ptr<Watcher> watcher_;
  State state_ = State::kOpen;
  Buffer input_;

  // Output, shared by the loop and by threads sending directly. Every write to the socket is
  // made holding output_mu_, which is what keeps the bytes in order.
  std::mutex output_mu_;
  OutputQueue output_;              // guarded by output_mu_
  size_t output_offset_ = 0;        // guarded by output_mu_: bytes of output_.front() written
  bool output_open_ = true;         // guarded by output_mu_: false once closing or closed
  // guarded by output_mu_: the loop will write output_ (a flush is scheduled or it waits for
  // EPOLLOUT). While set, other threads queue instead of writing.
  bool loop_flushes_ = false;
  // guarded by output_mu_: a watermark check has been handed to the loop and not yet run.
  bool watermark_check_queued_ = false;
  std::atomic<size_t> queued_bytes_{0};  // written under output_mu_

  // guarded by output_mu_ (and the loop thread for the pointer): see Protected connections.
  std::unique_ptr<RecordLayer> record_;
  // guarded by output_mu_: small queued pieces gathered into one record; written before output_.
  std::string record_stage_;
  bool read_wants_write_ = false;  // the record layer's read waits for writability

  bool flush_scheduled_ = false;
  bool in_data_callback_ = false;  // sends during it are flushed when it returns
  bool above_high_water_ = false;
  TimerId linger_timer_ = 0;
  absl::Status linger_reason_;
  DataCallback data_callback_;
  CloseCallback close_callback_;
  WatermarkCallback watermark_callback_;
};

}  // namespace framerpc

#endif  // FRAMERPC_TRANSPORT_CONNECTION_H_

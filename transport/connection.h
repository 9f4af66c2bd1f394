// Connection: one established byte-stream socket (TCP or Unix) on one EventLoop. It moves bytes;
// it knows nothing of frames or RPC.
//
// Lifetime: shared. The owner (a server's connection table or a client channel) holds one
// reference, the loop holds one while a callback runs, and threads that may still Send() hold
// theirs; the socket is closed when the last reference goes. Shared ownership is the point here:
// a worker thread finishing a call must be able to reply to, or find closed, a connection the
// loop may drop at any moment.
//
// Threading: Send(), Enqueue(), Shutdown(), SendAndClose(), ForceClose() and
// queued_output_bytes() are safe from any thread. Everything else, and every callback, runs on the
// connection's loop thread.
//
// Output: a WriteQueue (transport/write_queue.h), which threads join without a mutex. The thread
// whose send finds the queue empty owns the socket's write side and writes, then writes what other
// threads queued meanwhile; the others return at once, their bytes queued. An owner that meets a
// full socket (EAGAIN) passes the role to the loop, which writes the rest when the socket is
// writable, and returns. No lock is held across sendmsg, and the loop never waits for a thread
// that is sending. Sends from the loop thread are queued and, when the loop owns the queue, written
// together, one writev per batch of events. Bytes leave in the order of the queue's exchanges,
// which for one thread is the order of its Send() calls; a close (Shutdown, SendAndClose) is a
// request in the same queue, so whatever was sent before it is written and what came after it is
// dropped; ForceClose and errors drop everything still queued.
//
// Protected connections: with a RecordLayer (a TLS session whose handshake is done), the same
// paths read and write through it instead of the socket. One session serves both directions, so
// every call into the layer is made holding RecordState::mu: the owner of the write queue holds it
// while it writes a batch through the layer (and so across the layer's own socket write), and the
// loop while it reads. With TLS the loop may thus wait for an owner's write; plaintext connections have
// no such lock. Small pieces of output are gathered into one record of up to 16 KiB, and the
// records of a batch leave together (RecordLayer::Cork, the writev of the plain path); a large
// piece is written from where it is. Records the layer has taken and the socket not yet (at most
// 256 KiB for TLS) are not counted in queued_output_bytes(), but the output is not drained until
// they are sent. Graceful closes send close_notify first. A layer that owns its transport (an
// in-memory pipe, transport/memory_pipe.h) carries the bytes itself, and the fd only tells the
// loop when to read.
//
// Lock order: RecordState::mu is the only mutex here and a leaf: nothing is locked while it is held.
// Callers (rpc/call_stream.h, rpc/stream_route.h) may hold their own locks around Enqueue(),
// which takes none (a loop task queue's mutex at most); Send() writes, so call it without them.
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
#include "transport/record_layer.h"
#include "transport/socket_address.h"
#include "transport/watcher.h"
#include "transport/write_queue.h"

namespace framerpc {

class Connection;
using ConnectionPtr = std::shared_ptr<Connection>;

// The write role an Enqueue() found free: its holder writes the connection's queued output with
// Write(), or when it goes, after releasing whatever lock it held around Enqueue(). Empty (no
// role) when another thread writes, or the loop, or the output is closed. Movable, not copyable;
// holding one blocks the connection's output until it is written, so hold it only briefly, never
// across a wait.
class WriteTicket {
 public:
  WriteTicket() = default;
  ~WriteTicket() { Write(); }
  WriteTicket(WriteTicket&& other) noexcept : connection_(std::move(other.connection_)) {}
  WriteTicket& operator=(WriteTicket&& other) noexcept;
  WriteTicket(const WriteTicket&) = delete;
  WriteTicket& operator=(const WriteTicket&) = delete;

  // Writes (if this ticket holds the role) and empties the ticket.
  void Write();
  bool holds_write() const { return connection_ != nullptr; }

 private:
  friend class Connection;
  explicit WriteTicket(ConnectionPtr connection) : connection_(std::move(connection)) {}
  ConnectionPtr connection_;
};

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
  void set_record_layer(std::unique_ptr<RecordLayer> layer);
  // The record layer, null if none. Loop thread; for reading what it established (the peer).
  RecordLayer* record_layer() const { return record_.get(); }

  // Loop thread. Starts reading; set the callbacks first.
  void Start();

  // Writes `bytes` after everything sent before. Thread-safe. Output queued on the loop thread
  // within one batch of events is written with a single writev; another thread writes itself
  // when it finds the queue empty (see Output above). Dropped silently once Shutdown(),
  // SendAndClose() or ForceClose() has been called (from any thread), or the connection has
  // closed.
  void Send(std::string bytes);
  // Sends `head` then `tail`, as Send(head + tail) would. From another thread that finds the queue
  // empty, the write takes both from where they are (one sendmsg with two buffers), and `tail` is
  // copied only if the socket does not take it all; a thread that queues behind another copies
  // it; from the loop thread it is always copied. `tail` need only live until this returns.
  void Send(std::string head, absl::string_view tail);
  // Send(head, tail) in two steps, for a caller that orders its frames under a lock of its own:
  // queues the frame now (its place in the output is taken here) and returns the write role if
  // it was free, to be used once the lock is released (WriteTicket::Write). `tail` must live
  // until the ticket is written or gone. Takes no lock (see Lock order above).
  WriteTicket Enqueue(std::string head, absl::string_view tail);
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
  // Loop thread: bytes of buffer storage held now (input buffer and record stage); queued
  // requests are not counted (queued_output_bytes() has them). For tests and connection info.
  size_t buffer_bytes_held();
  // Loop thread: true from the watermark callback's `true` until its `false`.
  bool above_high_water() const { return above_high_water_.load(std::memory_order_relaxed); }

  bool closed() const { return state_ == State::kClosed; }
  // Output accepted by Send() and not yet written. Any thread.
  size_t queued_output_bytes() const { return queued_bytes_.load(std::memory_order_relaxed); }
  const SocketAddress& peer() const { return peer_; }
  EventLoop* loop() const { return loop_; }

 private:
  friend class WriteTicket;
  enum class State { kOpen, kShuttingDown, kLingering, kClosed };
  // How an owner's write of the queue ended.
  enum class WriteOutcome {
    kDrained,  // all written; the queue is released (the caller no longer owns it)
    kBlocked,  // the socket (or record layer) is full; the caller still owns the queue
    kEnded,    // a close request's bytes are written: nothing more may be
    kClosing,  // the connection closed meanwhile: drop everything
    kError,    // the write failed
  };

  // Queues `request` (then `borrowed`, see WriteQueue::Push). Returns true when the calling thread,
  // not the loop's, now owns the queue and must write it (WriteAsOwner). On the loop thread, an
  // empty queue becomes the loop's and a flush is scheduled.
  bool EnqueueRequest(std::unique_ptr<WriteRequest> request, absl::string_view borrowed);
  // Counts `n` more queued bytes, in queued_bytes_ and the output budget; returns the new total.
  size_t AddQueued(size_t n);
  void SubtractQueued(size_t n);
  // After `total` bytes are queued, or written down to it: has the loop check the watermarks if
  // one may have been crossed.
  void CheckWatermark(size_t total);
  // Owner: writes the queue until drained, blocked, ended or failed (`*error`).
  WriteOutcome WriteQueued(absl::Status* error);
  // The same through record_, holding record_state_->mu.
  WriteOutcome WriteQueuedRecords(absl::Status* error);
  // Owner, record_state_->mu held: one pass over the queue through record_ (see WriteQueuedRecords).
  WriteOutcome WriteRecordsLocked(absl::Status* error);
  // Owner, record_state_->mu held: gathers the small requests at the front into its stage.
  void StageRecords();
  // Owner, not the loop: WriteQueued, then passes the role to the loop or poisons the queue as
  // the outcome requires.
  void WriteAsOwner();
  // Loop, given the role by a thread whose write met a full socket.
  void TakeOverWrites();
  // Loop: the queue is poisoned (an owner's close request, error, or the close): ends the write
  // side, closes the socket if the connection is closed, or closes it with `error`.
  void OnWritesEnded(absl::Status error);
  // Loop: closes the socket (and record layer). Only once no thread may write to it.
  void CloseSocket();
  // Loop: poisons the queue it owns, dropping what is queued.
  void PoisonWrites();
  void HandleRead();
  // HandleRead through record_.
  void HandleRecordsRead();
  void HandleWrite();
  // Closes the write side: close_notify through record_ first, if there is one.
  void ShutdownWrite();
  void HandleClose(absl::Status reason);
  // Loop: writes the queue if the loop owns it.
  void Flush();
  // Loop: schedules a Flush() for the end of this batch of events.
  void ScheduleFlush();
  // Fires the watermark callback on a crossing of the high or the low water mark.
  void UpdateWatermark();
  // The same, for `queued` bytes.
  void FireWatermark(size_t queued);
  std::string SocketErrorText() const;
  // Input the peer sent that is not yet read (in the socket, or in a layer that owns its
  // transport); true when that cannot be told.
  bool InputPending();
  // Lingering only: closes if the output is written and nothing unread is pending.
  void CloseIfDrained();
  // Runs the data callback on the buffered input, then flushes what it sent.
  void RunDataCallback();

  // What only a connection with a record layer needs: kept apart, so that a plain connection
  // (a server holds many, idle) does not carry it. Every call into the layer is made holding
  // `mu` (see Protected connections).
  struct RecordState {
    std::mutex mu;
    bool closed = false;  // guarded by mu: the layer's Close() has run
    // Owner of writes_ only: small queued pieces gathered into one record; written first.
    std::string stage;
    std::atomic<size_t> stage_held{0};  // its capacity, for buffer_bytes_held()
  };

  // Ordered to pack: a server holds one of these per connection.
  EventLoop* const loop_;
  // Reset on the loop thread once no thread may write to it (the write queue is poisoned); the
  // queue's owner writes to it from any thread until then. Before watcher_, which outlives it.
  ScopedFd fd_;
  State state_ = State::kOpen;
  const SocketAddress peer_;
  const ConnectionOptions options_;
  std::unique_ptr<Watcher> watcher_;
  Buffer input_;
  // ----- Output (see Output above).
  WriteQueue writes_;
  std::atomic<size_t> queued_bytes_{0};  // queued and not yet written (the owner's own excepted)
  // The record layer and its state; both set before Start() and not changed after.
  std::unique_ptr<RecordLayer> record_;
  std::unique_ptr<RecordState> record_state_;
  TimerId linger_timer_ = 0;
  absl::Status linger_reason_;
  DataCallback data_callback_;
  CloseCallback close_callback_;
  WatermarkCallback watermark_callback_;
  std::atomic<bool> output_open_{true};  // false once a close was asked for: later sends dropped
  std::atomic<bool> closing_{false};     // HandleClose has run: the owner drops what is queued
  std::atomic<bool> watermark_check_queued_{false};  // a watermark check is queued to the loop
  std::atomic<bool> above_high_water_{false};        // written on the loop
  // Loop thread only:
  bool loop_writes_ = false;        // the loop owns writes_ (a flush is due or EPOLLOUT awaited)
  bool write_side_ended_ = false;   // writes_ is poisoned and the loop has ended the write side
  bool read_wants_write_ = false;  // the record layer's read waits for writability
  bool flush_scheduled_ = false;
  bool in_data_callback_ = false;  // sends during it are flushed when it returns
};

}  // namespace framerpc

#endif  // FRAMERPC_TRANSPORT_CONNECTION_H_

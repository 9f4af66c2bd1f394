// CallStream: one end of a streaming call's message flow (docs/protocol.md §11), shared by the
// server connection and the client channel. It queues the peer's messages for the application,
// returns their flow-control credit as the application consumes them, and holds the
// application's writes until the peer has granted credit. It knows frames but no socket: frames
// leave through the SendFn it is given.
//
// Threading: the On*() and End() methods are called by the connection's I/O thread; Read*,
// Write*, WritesDone and DiscardIncoming by application threads (one reader and one writer at a
// time). Every method is thread-safe. Callbacks of the *Async methods run on the I/O thread (via
// PostFn when they are ready at once, so never re-entrantly from the *Async call itself).
//
// Order and locks: frames take their place in the connection's output under mu_ (SendFn queues
// them, Connection::Enqueue), so they leave in the order the stream produced them; the socket
// write itself happens after mu_ is released (WriteTicket). Lock order: mu_, then whatever SendFn
// takes (rpc/stream_route.h's StreamRoute::mu_, an event loop's task queue); no socket write and
// no wait happens under mu_ except a blocked Write()'s wait on cv_. No callback runs under mu_.
//
// How a blocked Read() is woken (the hand-off from the I/O thread to the reader):
// - The reader sleeps on read_parker_ (base/parker.h: one futex call to sleep and one to wake,
//   where a condition variable makes three), not on cv_, having set reader_asleep_ under mu_.
//   Whoever wakes it clears reader_asleep_ under mu_ and calls Wake() after releasing mu_; a
//   thread that finds reader_asleep_ false makes no system call at all.
// - Messages are woken for once per batch, not once per message or per socket read: OnMessage
//   with `wake_owed` wakes a sleeping reader at once only when the queue holds a quarter of the
//   receive window (batch_bytes_); below that it leaves the wake to the connection, which calls
//   WakeReaders() once its loop has run out of input (EventLoop::RunWhenIdle: when a poll finds
//   no more ready, or after a bounded number of passes). No wake-up is lost: wake_owed_ is set
//   (under mu_) exactly when OnMessage hands the connection that duty, and only WakeReaders()
//   clears it, so a reader that went to sleep is always woken by the message that found it
//   asleep, by the WakeReaders() that message owed, or by a later batch.
// - The end of the call (End: cancellation, deadline, the connection's loss), the peer's
//   half-close, WritesDone and credit wake at once, never deferred.
// - Flow control does not depend on the deferral: credit is returned as the application reads
//   (ConsumeLocked), and the deferral holds at most batch_bytes_ (a quarter of the window) before
//   the reader is woken, so the peer is never out of credit because a reader was left asleep.
#ifndef FRAMERPC_RPC_CALL_STREAM_H_
#define FRAMERPC_RPC_CALL_STREAM_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/parker.h"
#include "google/protobuf/message_lite.h"
#include "transport/connection.h"
#include "transport/frame_codec.h"

namespace framerpc {

inline constexpr int64_t kDefaultStreamWindow = int64_t{1} << 20;
inline constexpr int64_t kMaxStreamCredit = (int64_t{1} << 31) - 1;

class CallStream {
 public:
  // Queues the frame `head` + `tail` on the connection (Connection::Enqueue). Thread-safe, keeps
  // order; called under mu_, so it must not write to a socket itself: it returns the write role
  // if it found it free, and the caller writes once mu_ is released. `tail` (a message's
  // attachment, sent without being copied into the frame) lives until the ticket is written.
  using SendFn = std::function<WriteTicket(std::string head, absl::string_view tail)>;
  using PostFn = std::function<void(std::function<void()>)>;  // runs a task on the I/O thread
  using ReadDone = std::function<void(std::optional<Frame> frame)>;
  using WriteDone = std::function<void(absl::Status status)>;

  // `send_window`: the credit the peer grants us at the start; `recv_window`: what we grant it.
  CallStream(uint64_t call_id, FrameLimits limits, int64_t send_window, int64_t recv_window,
             SendFn send, PostFn post);
  CallStream(const CallStream&) = delete;
  CallStream& operator=(const CallStream&) = delete;

  // Before use: a blocking Write() that waits this long for credit (the peer has read nothing
  // meanwhile) gives up with RESOURCE_EXHAUSTED, so that a reader that never reads cannot hold
  // the writer's thread, slot and memory for good. InfiniteDuration (the default): no limit.
  void set_stall_timeout(absl::Duration timeout) { stall_timeout_ = timeout; }
  // Before use: told how long each blocking Write() that had to wait for credit waited (on the
  // writer's thread), for the metrics.
  void set_credit_wait_observer(std::function<void(absl::Duration)> observer) {
    credit_wait_observer_ = std::move(observer);
  }

  // ----- application side
  // Blocks until there is credit (or the call ends), then sends `message` as a STREAM_MESSAGE.
  // Errors: the frame breaks the limits (RESOURCE_EXHAUSTED), no credit within the stall timeout
  // (RESOURCE_EXHAUSTED), the call has ended (its end status, or CANCELLED if that was OK), or
  // WritesDone() was called (FAILED_PRECONDITION).
  absl::Status Write(const google::protobuf::MessageLite& message, absl::string_view attachment);
  // As Write(), without blocking: `done` runs once the frame has been handed to the connection,
  // or with the error. One at a time, as in gRPC: a WriteAsync made before the previous one's
  // `done` has started fails with FAILED_PRECONDITION (through its own `done`), sends nothing and
  // leaves the call going, so the stream holds at most one unsent message for its writer.
  void WriteAsync(const google::protobuf::MessageLite& message, absl::string_view attachment,
                  WriteDone done);
  // Sends END_OF_STREAM after any pending asynchronous writes. Idempotent.
  absl::Status WritesDone();
  // Blocks for the peer's next message. false once the peer half-closed or the call ended and
  // every queued message has been read.
  bool Read(Frame* frame);
  void ReadAsync(ReadDone done);
  // From now on the peer's messages are dropped on arrival, their credit returned at once.
  void DiscardIncoming();

  // ----- I/O side
  // A STREAM_MESSAGE without END_OF_STREAM, whose frame body was `body_bytes` long. An error is a
  // protocol violation by the peer that must end the call. Without `wake_owed`, a reader blocked
  // in Read() is woken at once. With it, it is woken at once only if the queue now holds a batch
  // (a quarter of the receive window); otherwise, when *wake_owed is set, the caller MUST call
  // WakeReaders() once it has delivered the rest of the burst it is reading, so that the reader
  // wakes once per batch rather than once per message (each wake-up costs two context switches).
  // *wake_owed is set at most once until that WakeReaders(), and is left alone otherwise.
  absl::Status OnMessage(Frame frame, uint32_t body_bytes, bool* wake_owed = nullptr);
  // Wakes a reader blocked in Read(), and pays the wake OnMessage owed. Thread-safe.
  void WakeReaders();
  // The peer's END_OF_STREAM.
  absl::Status OnHalfClose();
  absl::Status OnWindowUpdate(uint32_t credit);
  // The call is over. Blocked and later operations fail with `status` (CANCELLED if it is OK).
  // Messages already queued stay readable when `keep_queued`.
  void End(absl::Status status, bool keep_queued);

  bool ended() const;
  uint64_t call_id() const { return call_id_; }
  // Bytes of peer messages queued and not yet read (for tests of the memory bound).
  int64_t queued_bytes() const;
  // Threads blocked in Read or Write that no one has woken yet (for tests).
  int unwoken_waiters() const;
  // Queued bytes from which OnMessage wakes a blocked reader at once (for tests).
  int64_t batch_bytes() const { return batch_bytes_; }

 private:
  struct Queued {
    Frame frame;
    uint32_t body_bytes;
  };
  struct PendingWrite {
    std::string frame;
    WriteDone done;
  };
  // Who must be woken once mu_ is released.
  struct Wakes {
    bool reader = false;
    bool writers = false;
  };

  // Takes the blocked writers, and the reader if `reader`, off the books. Requires mu_.
  Wakes TakeWaitersLocked(bool reader);
  // Wakes what TakeWaitersLocked took. Without mu_.
  void WakeUp(Wakes wakes);
  // The status a failed write reports. Requires mu_.
  absl::Status WriteErrorLocked() const;
  // Counts `bytes` as consumed; returns the WINDOW_UPDATE frame to send, if one is due. Requires mu_.
  std::string ConsumeLocked(uint32_t bytes);
  // Queues the pending async writes that credit now allows, and the half-close if it is due;
  // collects their callbacks, and the write role in `*ticket` if one of them found it free.
  // Requires mu_.
  void SendAllowedLocked(std::vector<WriteDone>* completed, WriteTicket* ticket);
  static void RunWriteCallbacks(std::vector<WriteDone>* completed);
  std::string EncodeStreamFrame(const google::protobuf::MessageLite* message,
                                absl::string_view attachment, uint32_t flags,
                                absl::Status* status) const;

  const uint64_t call_id_;
  const FrameLimits limits_;
  const int64_t recv_window_;
  const SendFn send_;
  const PostFn post_;
  absl::Duration stall_timeout_ = absl::InfiniteDuration();
  std::function<void(absl::Duration)> credit_wait_observer_;

  const int64_t batch_bytes_;

  mutable std::mutex mu_;
  std::condition_variable cv_;  // blocked writers wait on it
  int write_waiters_ = 0;       // guarded by mu_: writers blocked in Write and not yet woken
  Parker read_parker_;          // the blocked reader sleeps on it
  bool reader_asleep_ = false;  // guarded by mu_: a reader sleeps in Read and is not yet woken
  bool wake_owed_ = false;      // guarded by mu_: a WakeReaders() is due (see OnMessage)
  int64_t send_credit_;                  // guarded by mu_
  int64_t recv_credit_;                  // guarded by mu_: what the peer may still send
  int64_t consumed_ = 0;                 // guarded by mu_: read, not yet returned as credit
  std::deque<Queued> queue_;             // guarded by mu_
  int64_t queued_bytes_ = 0;             // guarded by mu_
  ReadDone pending_read_;                // guarded by mu_
  std::deque<PendingWrite> pending_writes_;  // guarded by mu_: at most one (see WriteAsync)
  // A WriteAsync is outstanding. Shared with the callback that clears it, which may run after
  // this object is gone.
  const std::shared_ptr<std::atomic<bool>> async_write_busy_ =
      std::make_shared<std::atomic<bool>>(false);
  bool writes_done_ = false;             // guarded by mu_: WritesDone() called
  bool half_close_sent_ = false;         // guarded by mu_
  bool peer_half_closed_ = false;        // guarded by mu_
  bool discard_ = false;                 // guarded by mu_
  bool ended_ = false;                   // guarded by mu_
  absl::Status end_status_;              // guarded by mu_
};

// The streams whose OnMessage set *wake_owed during one pass over a connection's input (client
// channel and server connection alike): their blocked readers are woken together once `loop` has
// run out of ready events (EventLoop::RunWhenIdle), and `streams` is left empty. The task holds
// the streams, not their connection, which may be gone when it runs. Loop thread.
void WakeReadersWhenIdle(EventLoop* loop, std::vector<std::shared_ptr<CallStream>>* streams);

}  // namespace framerpc

#endif  // FRAMERPC_RPC_CALL_STREAM_H_

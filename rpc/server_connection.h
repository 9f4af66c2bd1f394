// ServerConnection: the RPC protocol on one accepted connection. It decodes frames, starts calls
// through the Dispatcher, matches CANCEL frames and deadlines to running calls, and writes
// replies. All of its state lives on the connection's loop thread; replies produced on worker
// threads are posted back to it.
#ifndef FRAMERPC_RPC_SERVER_CONNECTION_H_
#define FRAMERPC_RPC_SERVER_CONNECTION_H_

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "base/notification.h"
#include "base/refusal_observer.h"
#include "rpc/connection_timeouts.h"
#include "rpc/dispatcher.h"
#include "rpc/peer_identity.h"
#include "rpc/server_stats.h"
#include "transport/connection.h"
#include "transport/frame_reader.h"
#include "transport/loop_timer.h"

namespace framerpc {

// Counts calls in flight across a server, for graceful shutdown. Thread-safe.
class InFlightCounter {
 public:
  void Add() {
    std::lock_guard<std::mutex> lock(mu_);
    ++count_;
  }
  void Done() {
    std::lock_guard<std::mutex> lock(mu_);
    if (--count_ == 0) cv_.notify_all();
  }
  // True if the count reached zero before `deadline`.
  bool WaitForZero(absl::Time deadline) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_until(lock, ToChronoDeadline(deadline), [this] { return count_ == 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int64_t count_ = 0;  // guarded by mu_
};

// Streams open across a whole server (each holds a handler thread), bounded. Thread-safe.
class StreamSlots {
 public:
  explicit StreamSlots(size_t limit) : limit_(limit) {}
  bool TryAcquire() {
    size_t open = open_.load(std::memory_order_relaxed);
    while (open < limit_) {
      if (open_.compare_exchange_weak(open, open + 1, std::memory_order_relaxed)) return true;
    }
    return false;
  }
  void Release() { open_.fetch_sub(1, std::memory_order_relaxed); }
  size_t limit() const { return limit_; }

 private:
  const size_t limit_;
  std::atomic<size_t> open_{0};
};

// What a connection looks like now, for the status pages.
struct ConnectionInfo {
  std::string peer;
  PeerIdentity identity;
  absl::Duration age;
  size_t calls_in_flight = 0;
  uint64_t bytes_received = 0;
  uint64_t bytes_sent = 0;
  // Input buffer and output queue storage held now (0 once given back while quiet).
  size_t buffer_bytes = 0;
};

// A call in flight, for the status pages.
struct InFlightCall {
  std::string method;
  std::string peer;
  absl::Duration age;
  absl::Time deadline;  // InfiniteFuture() when none
};

// Memory: a server holds many of these, idle, so what one holds is kept small (docs/benchmarks.md,
// "Idle connections"): what connections share lives in Shared and Limits, and the timeouts' timer
// is a LoopTimer inside the object.
class ServerConnection : public std::enable_shared_from_this<ServerConnection>,
                         private LoopTimer {
 public:
  using PauseCallback = std::function<void(bool paused)>;

  // What the server's connections share. Not owned; it and everything it points to must outlive
  // the connection (the server owns one for all of its connections).
  struct Shared {
    Dispatcher* dispatcher;
    InFlightCounter* in_flight;
    StreamSlots* server_streams;
    ServerStats* stats;
    // Bodies of frames still arriving and queued output, across the server's connections (the
    // output side is counted by the Connection, whose options the server sets).
    ByteBudget* memory_budget;
    RefusalObserver* refusals = nullptr;  // may be null: told of limits, garbage and timeouts
    // May be empty. Called on a connection's loop thread when backpressure pauses (true) or
    // resumes (false) it.
    PauseCallback on_pause;
    // May be empty. Called on the connection's loop thread once it is closed and every call on
    // it has finished, at most once per connection.
    std::function<void(ServerConnection*)> on_closed;
  };
  // Per-connection limits, as the server's options set them. Not copied: must outlive the
  // connection (the server owns one for all of its connections), since copies of its durations
  // were a tenth of an idle connection's memory.
  struct Limits {
    size_t max_concurrent_calls = 1024;
    size_t max_concurrent_streams = 256;
    uint32_t max_stream_window = 16u << 20;  // the largest send window a client may grant us
    ConnectionTimeoutOptions timeouts;
    absl::Duration stream_stall_timeout = absl::InfiniteDuration();  // CallStream::set_stall_timeout
  };

  // `seq`: the owner's number for it (a server's accept order), for seq().
  ServerConnection(ConnectionPtr connection, const Shared& shared, const Limits& limits,
                   const PeerIdentity& peer_identity, uint64_t seq = 0);
  // Its timer must not be armed (see LoopTimer): it is not, once the connection has closed.
  ~ServerConnection() override = default;

  // Loop thread. Hooks the connection's callbacks and starts reading. Shared::on_closed runs once
  // the connection is closed and every call on it has finished.
  void Start();
  // Loop thread. Sends GOAWAY: calls that arrive later are refused with UNAVAILABLE.
  void BeginDrain();
  // Loop thread. Ends every call still open with `status`, sent to the client, and cancels its
  // handler: for the calls a graceful shutdown could not wait for.
  void EndOpenCalls(const absl::Status& status);
  // Loop thread. The connection will be closed by Server::Shutdown: counted as such.
  void MarkShuttingDown() { close_reason_ = CloseReason::kShutdown; }
  // Any thread: no call in flight and no frame begun, so closing it loses nothing.
  bool idle() const { return idle_.load(std::memory_order_relaxed); }
  // Loop thread. Closes the connection to make room for a new one at a connection limit, with
  // GOAWAY first, if it is still idle.
  void CloseForLimit();
  // Loop thread: for the status pages.
  ConnectionInfo Describe(absl::Time now) const;
  void DescribeCalls(absl::Time now, std::vector<InFlightCall>* out) const;
  const ConnectionPtr& connection() const { return connection_; }
  const PeerIdentity& peer_identity() const { return *peer_identity_; }
  uint64_t seq() const { return seq_; }
  // The owner's mark that it chose this connection to be closed for a new one (a server's, at a
  // connection limit). Guarded by the owner's lock, not this object's.
  bool shedding() const { return shedding_; }
  void set_shedding() { shedding_ = true; }

 private:
  void OnData(Buffer* buffer);
  // Returns whether at least one whole frame was taken out of `buffer`.
  bool DecodeFrames(Buffer* buffer);
  // `frame` is DecodeFrames' (its ThreadFrame): what a call keeps is moved out of it.
  void OnFrame(Frame* frame, uint32_t body_bytes);
  void OnRequest(Frame* frame);
  // Sets up the message flow of a streaming call; false if the call was refused (and answered).
  bool OpenStream(ServerCall* call, uint32_t peer_window);
  void OnStreamMessage(Frame frame, uint32_t body_bytes);
  void OnWindowUpdate(const Frame& frame);
  void OnPing(const Frame& frame);
  // Sends one whole frame, counted in the stats; or a frame as its head and the `tail` that
  // completes it (a reply's attachment, moved here and written without a copy).
  void SendFrame(std::string frame, std::string tail = std::string());
  // Timeouts: tells timeouts_ what the input looks like after a decoding pass, and (re)arms the
  // timer at its next deadline; OnTimer carries out what is due.
  void NoteInput(Buffer* buffer, bool frame_completed);
  void ArmTimer();
  void Fire() override;  // LoopTimer
  void OnTimer();
  void SendPing();
  // kReleaseBuffers: the connection is quiet; gives back its buffers and empty tables.
  void ReleaseIdleMemory();
  // Closes for `action` (a timeout), counting `reason`.
  void CloseForTimeout(TimeoutAction action, CloseReason reason);
  // Ends an active call with `status` (a call-level protocol error).
  void FailCall(const std::shared_ptr<ServerCall>& call, const absl::Status& status);
  void OnCancel(uint64_t call_id);
  void OnClosed();
  // Runs Shared::on_closed, once.
  void ReportClosed();
  void ProtocolError(const absl::Status& status);
  void Refused(RefusalKind kind, absl::string_view reason);
  // Loop thread: sends `frame` (then `tail`, the rest of it) if `call` is still active, and
  // retires it.
  void Finish(const std::shared_ptr<ServerCall>& call, std::string frame,
              std::string tail = std::string());
  // The ReplyFn of every unary call here (ServerCall::reply_target is this connection).
  static const Dispatcher::ReplyFn kFinishReply;
  void Retire(uint64_t call_id);
  void RetireAll();
  void SetPaused(bool paused);
  // Why frames are not being processed right now, if they are not.
  bool MustPause() const;
  // The memory budget is over and this connection would need more of it for its next frame.
  bool BudgetBlocks() const;
  // Stops reading until the budget has room again.
  void PauseForBudget();
  // Resumes reading and processing of buffered input, from a fresh loop task (never re-entrantly
  // from inside a reply or a write).
  void ScheduleResume();

  size_t MaxConcurrentCalls() const { return std::max<size_t>(1, limits_.max_concurrent_calls); }

  // Ordered to pack: every idle connection holds one of these.
  ConnectionPtr connection_;
  FrameReader reader_;  // of connection_'s input
  const std::string peer_;  // formatted once: inet_ntop per request showed up in profiles
  const std::shared_ptr<const PeerIdentity> peer_identity_;  // shared: see ShareIdentity
  const Shared& shared_;
  const Limits& limits_;
  const uint64_t seq_;
  const int64_t accepted_at_ns_;  // Unix nanoseconds
  uint64_t bytes_received_ = 0;               // loop thread
  std::atomic<uint64_t> bytes_sent_{0};       // any thread (streams send from handlers)
  ConnectionTimeouts timeouts_;
  uint64_t next_ping_data_ = 1;
  struct Active {
    std::shared_ptr<ServerCall> call;
    TimerId deadline_timer = 0;
  };
  absl::flat_hash_map<uint64_t, Active> active_;
  uint64_t last_call_id_ = 0;
  size_t open_streams_ = 0;  // the active calls that are streams
  // Streams that owe their reader a wake-up for messages of the current OnData: woken when the
  // loop is idle (CallStream::OnMessage).
  std::vector<std::shared_ptr<CallStream>> streams_to_wake_;
  // Why the connection closes, when the server closed it; otherwise the close callback says.
  std::optional<CloseReason> close_reason_;
  std::atomic<bool> idle_{true};  // written on the loop thread: see idle()
  bool waiting_for_budget_ = false;  // a ByteBudget::WaitForRoom wake-up is registered
  bool redelivering_ = false;  // input handed to OnData again is not new input
  bool partial_frame_ = false;  // input holds the start of a frame
  bool draining_ = false;
  bool closed_ = false;
  bool broken_ = false;  // a protocol error was sent; no further frames are read
  bool paused_ = false;
  bool redelivery_scheduled_ = false;
  bool closed_reported_ = false;  // Shared::on_closed has run
  bool shedding_ = false;  // see shedding()
};

}  // namespace framerpc

#endif  // FRAMERPC_RPC_SERVER_CONNECTION_H_

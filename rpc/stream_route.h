// Internal to //rpc:channel: how a stream's frames reach the socket (see StreamRoute).
#ifndef FRAMERPC_RPC_STREAM_ROUTE_H_
#define FRAMERPC_RPC_STREAM_ROUTE_H_

#include <mutex>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "rpc/context.h"
#include "transport/connection.h"

namespace framerpc {

// How a stream's frames reach the socket. Until the loop has handed the REQUEST to a connected
// socket, every frame goes through a loop task (SendStreamFrame), which keeps them behind the
// REQUEST and lets frames wait for the connection. After that, and once no frame of the stream is
// still waiting in the loop, the application thread sends on the connection itself: no loop
// wake-up per message. Once the call's context is cancelled, frames go through the loop again, so
// that they stay behind the cancellation (queued to the loop by TryCancel), which drops them: a
// half-close after TryCancel() must not reach the server before the CANCEL. Thread-safe.
//
// Locks: mu_ is taken under CallStream::mu_ (rpc/call_stream.h: the stream's SendFn calls
// TrySendDirect), and nothing but Connection::Enqueue (which takes no mutex) and the loop's task
// queue are used under it. A direct frame takes its place in the connection's output under mu_,
// which keeps direct frames in order; the socket write happens once both locks are released
// (the WriteTicket the caller gets back).
class StreamRoute {
 public:
  explicit StreamRoute(const ClientContext* context) : context_(context) {}

  // Returns true if the frame `*head` + `tail` was queued on the connection directly (the write
  // role in `*ticket` if it was free: write it after releasing every lock); otherwise appends
  // `tail` to `*head`, and the caller must hand the frame to the loop.
  bool TrySendDirect(std::string* head, absl::string_view tail, WriteTicket* ticket) {
    std::lock_guard<std::mutex> lock(mu_);
    if (direct_ != nullptr && frames_in_loop_ == 0 && !context_->cancel_requested()) {
      *ticket = direct_->Enqueue(std::move(*head), tail);  // its place in the output, under mu_
      return true;
    }
    ++frames_in_loop_;
    head->append(tail.data(), tail.size());
    return false;
  }
  // Loop thread: a frame counted by TrySendDirect has been sent (or dropped) by the loop.
  void FrameLeftLoop() {
    std::lock_guard<std::mutex> lock(mu_);
    --frames_in_loop_;
  }
  // Loop thread: the REQUEST has been handed to `connection`, or (null) the stream has ended.
  void SetDirect(ConnectionPtr connection) {
    std::lock_guard<std::mutex> lock(mu_);
    direct_ = std::move(connection);
  }

 private:
  const ClientContext* const context_;  // outlives the call, as the stream API requires
  std::mutex mu_;
  ConnectionPtr direct_;     // guarded by mu_
  int frames_in_loop_ = 0;   // guarded by mu_
};

}  // namespace framerpc

#endif  // FRAMERPC_RPC_STREAM_ROUTE_H_

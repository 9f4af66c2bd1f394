// An in-memory ServerStreamBase for testing streaming handlers without a network: the test plays
// the client. Messages travel serialized, as on the wire.
//
// Like the framed transport, the server-to-client direction has a window: the handler's Write()
// blocks while `window_messages` messages are unread, so a test that stops reading stalls the
// handler exactly as a client without credit would. Cancel() ends the call as a cancellation or
// a disconnect does: every blocked and later Read()/Write() on either side returns false.
//
// Thread safety: thread-safe. The handler may Read() and Write() from two threads at once, and
// the test may read and write from two more.
#ifndef FRAMERPC_SERVICES_TESTING_FAKE_SERVER_STREAM_H_
#define FRAMERPC_SERVICES_TESTING_FAKE_SERVER_STREAM_H_

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "google/protobuf/message_lite.h"
#include "base/cancellation.h"
#include "rpc/stream.h"

namespace framerpc::testing {

class FakeServerStream : public ServerStreamBase {
 public:
  explicit FakeServerStream(size_t window_messages = 16) : window_(window_messages) {}

  // --- The handler's side (ServerStreamBase).

  bool Read(google::protobuf::MessageLite* message, std::string* attachment) override {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, [this] { return cancelled_ || half_closed_ || !to_server_.empty(); });
    if (cancelled_ || to_server_.empty()) return false;
    const bool ok = message->ParseFromString(to_server_.front());
    to_server_.pop_front();
    if (attachment != nullptr) attachment->clear();
    ++server_reads_;
    changed_.notify_all();
    return ok;
  }

  bool Write(const google::protobuf::MessageLite& message,
             absl::string_view attachment) override {
    std::string bytes = message.SerializeAsString();
    std::unique_lock<std::mutex> lock(mu_);
    ++writes_waiting_;
    changed_.notify_all();
    changed_.wait(lock, [this] { return cancelled_ || to_client_.size() < window_; });
    --writes_waiting_;
    if (cancelled_) return false;
    to_client_.push_back(std::move(bytes));
    changed_.notify_all();
    return true;
  }

  // --- The test's (client's) side.

  void ClientWrite(const google::protobuf::MessageLite& message) {
    std::lock_guard<std::mutex> lock(mu_);
    to_server_.push_back(message.SerializeAsString());
    changed_.notify_all();
  }
  void ClientHalfClose() {
    std::lock_guard<std::mutex> lock(mu_);
    half_closed_ = true;
    changed_.notify_all();
  }
  // Blocks for the next server message. false once the handler has finished (HandlerDone())
  // and everything it wrote has been read, or once the call was cancelled.
  bool ClientRead(google::protobuf::MessageLite* message) {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, [this] { return cancelled_ || handler_done_ || !to_client_.empty(); });
    if (cancelled_ || to_client_.empty()) return false;
    const bool ok = message->ParseFromString(to_client_.front());
    to_client_.pop_front();
    changed_.notify_all();
    return ok;
  }
  // The call ends (client cancel, deadline or disconnect).
  void Cancel() {
    // First, outside mu_ (its callbacks may use this stream): as on the framed transport, a
    // handler whose Read or Write fails because of the cancellation then sees it signalled.
    cancellation_.Cancel();
    std::lock_guard<std::mutex> lock(mu_);
    cancelled_ = true;
    changed_.notify_all();
  }
  // The call's cancellation, as a handler's ServerContext would give it.
  const CancellationSignal& cancellation() const { return cancellation_; }
  bool cancelled() const {
    std::lock_guard<std::mutex> lock(mu_);
    return cancelled_;
  }
  // To be called by the test once the handler has returned.
  void HandlerDone() {
    std::lock_guard<std::mutex> lock(mu_);
    handler_done_ = true;
    changed_.notify_all();
  }
  // Blocks until the handler has read `n` messages in all; false if the call was cancelled first.
  bool WaitForServerReads(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, [&] { return cancelled_ || server_reads_ >= n; });
    return server_reads_ >= n;
  }
  // Blocks until the handler is blocked in Write() on a full window.
  void WaitForBlockedWrite() {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, [this] { return writes_waiting_ > 0 && to_client_.size() >= window_; });
  }

 private:
  const size_t window_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::deque<std::string> to_server_;  // guarded by mu_
  std::deque<std::string> to_client_;  // guarded by mu_
  bool half_closed_ = false;           // guarded by mu_
  bool cancelled_ = false;             // guarded by mu_
  CancellationSignal cancellation_;
  bool handler_done_ = false;          // guarded by mu_
  int server_reads_ = 0;               // guarded by mu_
  int writes_waiting_ = 0;             // guarded by mu_
};

}  // namespace framerpc::testing

#endif  // FRAMERPC_SERVICES_TESTING_FAKE_SERVER_STREAM_H_

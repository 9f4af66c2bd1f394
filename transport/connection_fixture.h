// Test fixture: a Connection over one end of a Unix socketpair, started on a loop thread; the
// test thread holds the other end (peer_, blocking, with 20 s send and receive timeouts so that a
// broken connection fails the test instead of hanging it). The callbacks record into fields
// guarded by mu_ and notify cv_. For transport/connection_test.cc and connection_write_test.cc.
#ifndef FRAMERPC_TRANSPORT_CONNECTION_FIXTURE_H_
#define FRAMERPC_TRANSPORT_CONNECTION_FIXTURE_H_

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "base/notification.h"
#include "base/scoped_fd.h"
#include "gtest/gtest.h"
#include "transport/connection.h"
#include "transport/event_loop_thread.h"
#include "transport/socket_ops.h"

namespace framerpc {
namespace test {

// Generous: only reached when something is broken, so a failure reports instead of hanging.
constexpr auto kConnectionWaitLimit = std::chrono::seconds(30);

inline void RunOnLoopAndWait(EventLoop* loop, const std::function<void()>& fn) {
  Notification done;
  loop->RunInLoop([&] {
    fn();
    done.Notify();
  });
  done.WaitForNotification();
}

class SocketPairConnectionTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (conn_ != nullptr) {
      // Close and drop the last reference on the loop thread, where the watcher lives.
      RunOnLoopAndWait(loop(), [this] {
        conn_->ForceClose(absl::CancelledError("test over"));
        conn_.reset();
      });
    }
  }

  EventLoop* loop() { return thread_.loop(); }

  // `send_buffer` > 0: the connection's socket takes about that much before EAGAIN.
  void StartConnection(ConnectionOptions options = ConnectionOptions(), int send_buffer = 0) {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    ASSERT_EQ(::fcntl(sv[0], F_SETFL, ::fcntl(sv[0], F_GETFL) | O_NONBLOCK), 0);
    if (send_buffer > 0) {
      ASSERT_EQ(::setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &send_buffer, sizeof(int)), 0);
      ASSERT_EQ(::setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &send_buffer, sizeof(int)), 0);
    }
    conn_fd_ = sv[0];
    peer_.reset(sv[1]);
    const timeval timeout{20, 0};
    ::setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    ::setsockopt(sv[1], SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
    conn_ = std::make_shared<Connection>(loop(), ScopedFd(sv[0]), LocalAddress(sv[1]), options);
    RunOnLoopAndWait(loop(), [this] {
      conn_->set_data_callback([this](const ConnectionPtr& c, Buffer* buffer) {
        if (on_data_) on_data_(c, buffer);
        std::lock_guard<std::mutex> lock(mu_);
        received_.append(buffer->view().data(), buffer->readable_bytes());
        buffer->Consume(buffer->readable_bytes());
        cv_.notify_all();
      });
      conn_->set_close_callback([this](const ConnectionPtr& c, const absl::Status& reason) {
        // Right after the close, before any other fd can reuse the number on this thread.
        const bool fd_closed = ::fcntl(conn_fd_, F_GETFD) == -1 && errno == EBADF;
        std::lock_guard<std::mutex> lock(mu_);
        ++close_count_;
        close_reason_ = reason;
        fd_closed_in_close_callback_ = fd_closed;
        closed_flag_in_close_callback_ = c->closed();
        cv_.notify_all();
      });
      conn_->set_watermark_callback([this](const ConnectionPtr&, bool above) {
        std::lock_guard<std::mutex> lock(mu_);
        watermarks_.push_back(above);
        cv_.notify_all();
      });
      conn_->Start();
    });
  }

  // Waits (bounded) until `pred` holds under mu_.
  bool WaitUntil(const std::function<bool()>& pred) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kConnectionWaitLimit, pred);
  }
  bool WaitForReceived(size_t n) {
    return WaitUntil([&] { return received_.size() >= n; });
  }
  bool WaitForClose() {
    return WaitUntil([&] { return close_count_ > 0; });
  }
  // Two loop round trips: the second runs in an iteration whose poll started after this call, so
  // anything already readable or writable has been dispatched by then.
  void SettleLoop() {
    RunOnLoopAndWait(loop(), [] {});
    RunOnLoopAndWait(loop(), [] {});
  }

  EventLoopThread thread_;
  ConnectionPtr conn_;
  int conn_fd_ = -1;
  ScopedFd peer_;
  // Optional extra behaviour in the data callback; loop thread.
  std::function<void(const ConnectionPtr&, Buffer*)> on_data_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::string received_;
  int close_count_ = 0;
  absl::Status close_reason_;
  bool fd_closed_in_close_callback_ = false;
  bool closed_flag_in_close_callback_ = false;
  std::vector<bool> watermarks_;
};

}  // namespace test
}  // namespace framerpc

#endif  // FRAMERPC_TRANSPORT_CONNECTION_FIXTURE_H_

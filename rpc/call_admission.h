// Internal to //rpc:channel: the bounds a channel puts on the calls it holds for its multiplexed
// connection (ChannelOptions::max_outstanding_calls, max_queued_request_bytes,
// output_high_water_bytes and on_limit; docs/clients.md).
//
// A call is admitted before its REQUEST is handed to the channel's I/O thread. It then holds one
// call slot until it completes (CallEnded), and the bytes of its REQUEST frame until the frame
// leaves the channel's queue for a socket, or is dropped (RequestLeft). A frame larger than the
// byte cap is admitted only when nothing is queued. While the connection's unsent output is above
// its high-water mark (SetOutputBlocked(true), until it has drained to half) no call is admitted.
// Past a bound a call either fails at once with RESOURCE_EXHAUSTED naming the bound
// (OverLimitPolicy::kFail) or waits for room (kWait), at most until its deadline and never past
// its cancellation.
//
// Thread-safe. The fast path is a few atomic operations; a lock is taken only when a call must
// wait, or to wake one.
#ifndef FRAMERPC_RPC_CALL_ADMISSION_H_
#define FRAMERPC_RPC_CALL_ADMISSION_H_

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "rpc/channel_options.h"
#include "rpc/context.h"

namespace framerpc {

class CallAdmission {
 public:
  CallAdmission(std::string target, const ChannelOptions& options);
  CallAdmission(const CallAdmission&) = delete;
  CallAdmission& operator=(const CallAdmission&) = delete;

  // Admits a call whose REQUEST frame is `request_bytes` long. Over a bound: RESOURCE_EXHAUSTED,
  // at once under kFail or when `may_wait` is false (the I/O thread must never wait); under kWait
  // it waits for room until `deadline` (DEADLINE_EXCEEDED) or until `context` is cancelled
  // (CANCELLED "cancelled before start"); TryCancel() must then call WakeWaiters().
  absl::Status Admit(size_t request_bytes, absl::Time deadline, const ClientContext& context,
                     bool may_wait);
  // An admitted call's REQUEST frame has left the channel's queue (written to a connection, or
  // dropped).
  void RequestLeft(size_t request_bytes);
  // An admitted call has completed.
  void CallEnded();
  // The connection's unsent output went above its high-water mark (true), or drained to half
  // of it (false).
  void SetOutputBlocked(bool blocked);
  // Makes waiting calls look at their contexts again (after a TryCancel()).
  void WakeWaiters();

  size_t outstanding_calls() const { return calls_.load(); }
  size_t queued_request_bytes() const { return bytes_.load(); }

 private:
  // Takes a slot and the bytes if the bounds allow; otherwise the error saying which bound.
  // `holding_mu`: called by a waiter, under mu_.
  absl::Status TryReserve(size_t request_bytes, bool holding_mu);
  void Wake();

  const std::string target_;
  const size_t max_calls_;
  const size_t max_bytes_;
  const size_t high_water_;
  const OverLimitPolicy policy_;

  std::atomic<size_t> calls_{0};
  std::atomic<size_t> bytes_{0};
  std::atomic<bool> output_blocked_{false};
  // Calls in Admit's wait; the releasing side locks mu_ to notify only when there are some.
  std::atomic<int> waiters_{0};
  std::mutex mu_;
  std::condition_variable room_;
};

}  // namespace framerpc

#endif  // FRAMERPC_RPC_CALL_ADMISSION_H_

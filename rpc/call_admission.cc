#include "rpc/call_admission.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace framerpc {

CallAdmission::CallAdmission(std::string target, const ChannelOptions& options)
    : target_(std::move(target)),
      max_calls_(options.max_outstanding_calls),
      max_bytes_(options.max_queued_request_bytes),
      high_water_(options.output_high_water_bytes),
      policy_(options.on_limit) {}

absl::Status CallAdmission::TryReserve(size_t request_bytes, bool holding_mu) {
  // Reserve first, check after, undo if over: concurrent callers never overshoot together.
  const size_t calls = calls_.fetch_add(1) + 1;
  const size_t bytes = bytes_.fetch_add(request_bytes) + request_bytes;
  const bool blocked = output_blocked_.load();
  if (calls <= max_calls_ && (bytes <= max_bytes_ || bytes == request_bytes) && !blocked) {
    return absl::OkStatus();
  }
  calls_.fetch_sub(1);
  bytes_.fetch_sub(request_bytes);
  // A waiter that checked meanwhile may have missed room that this attempt held for a moment.
  // (Waiters check under mu_, so one holding it need not wake the others.)
  if (!holding_mu) Wake();
  if (calls > max_calls_) {
    return absl::ResourceExhaustedError(
        absl::StrCat("channel to ", target_, " already has ", calls - 1,
                     " calls outstanding, its ChannelOptions::max_outstanding_calls"));
  }
  if (blocked) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "connection to ", target_, " has more than ChannelOptions::output_high_water_bytes (",
        high_water_, ") of output unsent: the server is not reading it"));
  }
  return absl::ResourceExhaustedError(absl::StrCat(
      "a request of ", request_bytes, " bytes on channel to ", target_, " would take its ",
      bytes - request_bytes, " bytes of queued requests past ChannelOptions::max_queued_request_bytes (",
      max_bytes_, ")"));
}

absl::Status CallAdmission::Admit(size_t request_bytes, absl::Time deadline,
                                  const ClientContext& context, bool may_wait) {
  absl::Status status = TryReserve(request_bytes, /*holding_mu=*/false);
  if (status.ok() || policy_ == OverLimitPolicy::kFail || !may_wait) return status;
  std::unique_lock<std::mutex> lock(mu_);
  ++waiters_;  // before the next check: a release after it sees us and notifies under mu_
  for (;;) {
    if (context.cancel_requested()) {
      status = absl::CancelledError("cancelled before start");
      break;
    }
    status = TryReserve(request_bytes, /*holding_mu=*/true);
    if (status.ok()) break;
    if (absl::Now() >= deadline) {
      status = absl::DeadlineExceededError(
          absl::StrCat("deadline exceeded waiting for room: ", status.message()));
      break;
    }
    if (deadline == absl::InfiniteFuture()) {
      room_.wait(lock);
    } else {
      room_.wait_until(lock, absl::ToChronoTime(deadline));
    }
  }
  --waiters_;
  return status;
}

void CallAdmission::RequestLeft(size_t request_bytes) {
  bytes_.fetch_sub(request_bytes);
  Wake();
}

void CallAdmission::CallEnded() {
  calls_.fetch_sub(1);
  Wake();
}

void CallAdmission::SetOutputBlocked(bool blocked) {
  output_blocked_.store(blocked);
  if (!blocked) Wake();
}

void CallAdmission::WakeWaiters() { Wake(); }

void CallAdmission::Wake() {
  if (waiters_.load() == 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  room_.notify_all();
}

}  // namespace framerpc

#include "rpc/client_keepalive.h"

namespace framerpc {

ClientKeepalive::ClientKeepalive(absl::Duration time, absl::Duration timeout, absl::Time now)
    : time_(time), timeout_(timeout), last_input_(now) {}

ClientKeepalive::Action ClientKeepalive::Check(absl::Time now, bool calls_in_flight) {
  if (ping_outstanding_ && last_input_ >= ping_sent_) ping_outstanding_ = false;  // answered
  if (ping_outstanding_) {
    return now >= ping_sent_ + timeout_ ? Action::kDead : Action::kNone;
  }
  if (!calls_in_flight) {
    last_input_ = now;  // an idle connection is not probed; its clock restarts with the next call
    return Action::kNone;
  }
  if (now < last_input_ + time_) return Action::kNone;
  ping_outstanding_ = true;
  ping_sent_ = now;
  ++pings_sent_;
  return Action::kSendPing;
}

absl::Time ClientKeepalive::next_check() const {
  if (ping_outstanding_) return ping_sent_ + timeout_;
  return last_input_ + time_;
}

}  // namespace framerpc

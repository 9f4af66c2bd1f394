#include "rpc/connection_timeouts.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace framerpc {

absl::Status ConnectionTimeoutOptions::Validate() const {
  for (const auto& [name, value] :
       {std::pair<const char*, absl::Duration>{"first_byte", first_byte},
        {"handshake", handshake},
        {"frame_header", frame_header},
        {"idle", idle},
        {"keepalive_time", keepalive_time},
        {"keepalive_timeout", keepalive_timeout},
        {"release_buffers", release_buffers}}) {
    if (value <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError(absl::StrCat("the ", name, " timeout must be positive, not ",
                                                     absl::FormatDuration(value)));
    }
  }
  if (min_body_bytes_per_second == 0) {
    return absl::InvalidArgumentError("the minimum body rate must be at least 1 byte per second");
  }
  return absl::OkStatus();
}

const char* TimeoutActionName(TimeoutAction action) {
  switch (action) {
    case TimeoutAction::kNone:
      return "none";
    case TimeoutAction::kSendPing:
      return "keepalive ping";
    case TimeoutAction::kCloseFirstByte:
      return "first byte";
    case TimeoutAction::kCloseHeader:
      return "frame header";
    case TimeoutAction::kCloseBody:
      return "frame body";
    case TimeoutAction::kCloseIdle:
      return "idle";
    case TimeoutAction::kCloseKeepalive:
      return "keepalive";
    case TimeoutAction::kReleaseBuffers:
      return "release buffers";
  }
  return "unknown";
}

ConnectionTimeouts::ConnectionTimeouts(const ConnectionTimeoutOptions& options, absl::Time accepted)
    : options_(options),
      accepted_(Ns(accepted)),
      last_input_(Ns(accepted)),
      idle_since_(Ns(accepted)) {}

void ConnectionTimeouts::OnInput(absl::Time now, bool frame_completed,
                                 const PartialFrame& partial) {
  first_byte_seen_ = true;
  last_input_ = Ns(now);
  buffers_released_ = false;
  ping_outstanding_ = false;  // any frame is a sign of life
  if (partial.present && (!partial_.present || frame_completed)) frame_started_ = Ns(now);
  partial_ = partial;
}

void ConnectionTimeouts::OnCallsInFlight(absl::Time now, size_t calls) {
  if (calls == 0 && calls_ != 0) idle_since_ = Ns(now);
  if (calls != 0) buffers_released_ = false;
  calls_ = calls;
}

void ConnectionTimeouts::OnReadingPaused(absl::Time now, bool paused) {
  if (paused == paused_) return;
  paused_ = paused;
  if (paused) {
    paused_since_ = Ns(now);
    return;
  }
  // The clocks that depend on the peer's progress stood still meanwhile.
  const int64_t stopped = Ns(now) - paused_since_;
  accepted_ += stopped;
  last_input_ += stopped;
  frame_started_ += stopped;
  ping_sent_ += stopped;
}

void ConnectionTimeouts::OnPingSent(absl::Time now) {
  ping_outstanding_ = true;
  ping_sent_ = Ns(now);
}

absl::Time ConnectionTimeouts::FrameDeadline() const {
  absl::Time deadline = At(frame_started_) + options_.frame_header;
  if (partial_.header_known) {
    deadline += absl::Seconds(static_cast<double>(partial_.body_bytes) /
                              static_cast<double>(options_.min_body_bytes_per_second));
  }
  return deadline;
}

absl::Time ConnectionTimeouts::ReleaseDeadline() const {
  if (buffers_released_ || calls_ != 0 || partial_.present || paused_ || !first_byte_seen_) {
    return absl::InfiniteFuture();
  }
  return At(std::max(idle_since_, last_input_)) + options_.release_buffers;
}

absl::Time ConnectionTimeouts::NextDeadline() const {
  absl::Time next = absl::InfiniteFuture();
  if (calls_ == 0 && !partial_.present) next = std::min(next, At(idle_since_) + options_.idle);
  if (paused_) return next;
  if (!first_byte_seen_) return std::min(next, At(accepted_) + options_.first_byte);
  if (partial_.present) next = std::min(next, FrameDeadline());
  next = std::min(next, ping_outstanding_ ? At(ping_sent_) + options_.keepalive_timeout
                                          : At(last_input_) + options_.keepalive_time);
  return std::min(next, ReleaseDeadline());
}

TimeoutAction ConnectionTimeouts::Due(absl::Time now) const {
  if (calls_ == 0 && !partial_.present && now >= At(idle_since_) + options_.idle) {
    return TimeoutAction::kCloseIdle;
  }
  if (paused_) return TimeoutAction::kNone;
  if (!first_byte_seen_) {
    return now >= At(accepted_) + options_.first_byte ? TimeoutAction::kCloseFirstByte
                                                  : TimeoutAction::kNone;
  }
  if (partial_.present && now >= FrameDeadline()) {
    return partial_.header_known ? TimeoutAction::kCloseBody : TimeoutAction::kCloseHeader;
  }
  if (ping_outstanding_) {
    if (now >= At(ping_sent_) + options_.keepalive_timeout) return TimeoutAction::kCloseKeepalive;
  } else if (now >= At(last_input_) + options_.keepalive_time) {
    return TimeoutAction::kSendPing;
  }
  return now >= ReleaseDeadline() ? TimeoutAction::kReleaseBuffers : TimeoutAction::kNone;
}

}  // namespace framerpc

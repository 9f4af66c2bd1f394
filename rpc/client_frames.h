// Internal to //rpc:channel: the frames of a unary call as every client transport builds and
// reads them (stream channel and UDP channel alike).
#ifndef FRAMERPC_RPC_CLIENT_FRAMES_H_
#define FRAMERPC_RPC_CLIENT_FRAMES_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/message_lite.h"
#include "rpc/context.h"
#include "transport/frame_codec.h"

namespace framerpc {

// The REQUEST envelope for call `id`: method, metadata, and the time left until `deadline` as
// timeout_us (at least 1us, since 0 means none; nothing for an infinite deadline).
Envelope NewRequestEnvelope(uint64_t id, absl::string_view method, const ClientContext& context,
                            absl::Time deadline);

// Appends to `out` the REQUEST frame of a unary call: that envelope, `request` and the context's
// request attachment (EncodeFrame's errors). The envelope is built in one kept per thread, so
// that its method string is not allocated again for every call.
absl::Status EncodeRequestFrame(uint64_t id, absl::string_view method, const ClientContext& context,
                                absl::Time deadline, const google::protobuf::MessageLite& request,
                                const FrameLimits& limits, std::string* out);
// The same frame without the attachment's bytes (EncodeFrameHead): the caller sends the
// context's request attachment behind it from where it is.
absl::Status EncodeRequestHead(uint64_t id, absl::string_view method, const ClientContext& context,
                               absl::Time deadline, const google::protobuf::MessageLite& request,
                               const FrameLimits& limits, std::string* out);

// The CANCEL frame for call `id`, or "" if even that breaks `limits` (then nothing is sent).
std::string CancelFrame(uint64_t id, const FrameLimits& limits);

// A keepalive PING (docs/protocol.md §9.1), and the answer to one: PING with ACK and the same
// `ping_data`.
std::string PingFrame(uint64_t ping_data, const FrameLimits& limits);
std::string PingAckFrame(uint64_t ping_data, const FrameLimits& limits);

// True for a PING that must be answered (one without ACK).
inline bool IsPingToAnswer(const Envelope& envelope) {
  return envelope.kind() == PING && (envelope.flags() & ACK) == 0;
}

// UNAVAILABLE for a call that GOAWAY says the server never processed, marked so that
// CallNeverSent() holds (it may be sent to another server).
absl::Status NotProcessedError();

// The status of the calls on a connection the server ended with CONNECTION_ERROR: its code
// (UNKNOWN if it claims OK), and its message.
absl::Status ConnectionErrorStatus(const Envelope& envelope);

// A status code read off the wire: values outside the canonical range become UNKNOWN.
absl::StatusCode WireStatusCode(int32_t code);

// The final status of a call from its RESPONSE frame. When it is OK, `response` holds the parsed
// message (unless it is null) and the context the response attachment; an unparseable message
// makes it INTERNAL.
absl::Status FinishCallFromResponse(const Frame& frame, ClientContext* context,
                                    google::protobuf::MessageLite* response);
// The same, moving the attachment out of `frame` into the context instead of copying it: no copy
// at all when the frame reader detached it (Frame::TakeAttachment).
absl::Status FinishCallFromResponse(Frame* frame, ClientContext* context,
                                    google::protobuf::MessageLite* response);

}  // namespace framerpc

#endif  // FRAMERPC_RPC_CLIENT_FRAMES_H_

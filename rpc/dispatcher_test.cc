// A unary call's reply as a head plus a tail: the transports that write with writev get the
// response attachment moved, not copied into the frame; the others still get one whole frame.
#include "rpc/dispatcher.h"

#include <memory>
#include <string>
#include <utility>

#include "base/spare_strings.h"
#include "gtest/gtest.h"
#include "proto/echo.frpc.h"
#include "rpc/peer_identity.h"

namespace framerpc {
namespace {

// Echoes the request attachment and remembers where its reply's attachment was stored.
class RecordingEcho final : public echo::EchoService::Service {
 public:
  absl::Status Bytes(ServerContext* context, const echo::BytesRequest&,
                     echo::BytesReply* reply) override {
    reply->set_size(context->request_attachment().size());
    context->mutable_response_attachment()->assign(context->request_attachment().data(),
                                                   context->request_attachment().size());
    stored_at = context->mutable_response_attachment()->data();
    return absl::OkStatus();
  }
  const char* stored_at = nullptr;
};

Frame Decode(const std::string& wire) {
  Frame frame;
  EXPECT_EQ(DecodeFrame(wire, FrameLimits{}, &frame).outcome, DecodeOutcome::kFrame);
  return frame;
}

// A REQUEST for `method`, decoded as the server's reader would give it to the dispatcher.
Frame RequestFrame(const char* method, const google::protobuf::MessageLite* message,
                   const std::string& attachment) {
  Envelope envelope;
  envelope.set_kind(REQUEST);
  envelope.set_call_id(7);
  envelope.set_method(method);
  std::string wire;
  EXPECT_TRUE(EncodeFrame(envelope, message, attachment, FrameLimits{}, &wire).ok());
  return Decode(wire);
}

Frame BytesRequestFrame(const std::string& attachment) {
  return RequestFrame(echo::EchoService::kBytesMethodName, nullptr, attachment);
}

struct Replied {
  std::string frame;
  std::string tail;
};

Replied Serve(Dispatcher* dispatcher, const std::string& attachment, bool separate_tail) {
  std::shared_ptr<ServerCall> call =
      Dispatcher::NewCall(BytesRequestFrame(attachment), "test", PeerIdentity());
  call->separate_reply_tail = separate_tail;
  Replied replied;
  dispatcher->Dispatch(std::move(call), /*allow_offload=*/false,
                       [&](std::shared_ptr<ServerCall> done, std::string frame) {
                         replied.frame = std::move(frame);
                         replied.tail = std::move(done->reply_tail);
                       });
  return replied;
}

TEST(DispatcherReplyTest, ASeparateTailIsTheHandlersAttachmentMovedNotCopied) {
  RecordingEcho echo;
  Dispatcher dispatcher(FrameLimits{}, 1);
  ASSERT_TRUE(dispatcher.AddService(&echo).ok());
  const std::string attachment(256 << 10, 'z');
  Replied replied = Serve(&dispatcher, attachment, /*separate_tail=*/true);
  EXPECT_EQ(replied.tail.data(), echo.stored_at);  // the same storage
  EXPECT_TRUE(replied.tail == attachment);
  EXPECT_LT(replied.frame.size(), 100u);  // the head alone
  const Frame frame = Decode(replied.frame + replied.tail);
  EXPECT_EQ(frame.envelope.kind(), RESPONSE);
  EXPECT_EQ(frame.envelope.status_code(), 0);
  EXPECT_TRUE(frame.attachment() == attachment);
  echo::BytesReply reply;
  ASSERT_TRUE(reply.ParseFromArray(frame.message_bytes().data(),
                                   static_cast<int>(frame.message_bytes().size())));
  EXPECT_EQ(reply.size(), attachment.size());
}

TEST(DispatcherReplyTest, WithoutASeparateTailTheFrameIsWhole) {
  RecordingEcho echo;
  Dispatcher dispatcher(FrameLimits{}, 1);
  ASSERT_TRUE(dispatcher.AddService(&echo).ok());
  Replied replied = Serve(&dispatcher, "abc", /*separate_tail=*/false);
  EXPECT_TRUE(replied.tail.empty());
  EXPECT_EQ(Decode(replied.frame).attachment(), "abc");
}

TEST(DispatcherReplyTest, AReplyOverTheLimitIsAnErrorWithNoTail) {
  RecordingEcho echo;
  FrameLimits limits;
  limits.max_body_bytes = 64 << 10;
  Dispatcher dispatcher(limits, 1);
  ASSERT_TRUE(dispatcher.AddService(&echo).ok());
  // The request itself fits the default limits it was built with; the reply breaks these.
  Replied replied = Serve(&dispatcher, std::string(100 << 10, 'q'), /*separate_tail=*/true);
  EXPECT_TRUE(replied.tail.empty());
  const Frame frame = Decode(replied.frame);
  EXPECT_EQ(frame.envelope.status_code(), static_cast<int>(absl::StatusCode::kResourceExhausted));
}

// Takes the request attachment and remembers where it was read and where it ended up.
class TakingEcho final : public echo::EchoService::Service {
 public:
  absl::Status Bytes(ServerContext* context, const echo::BytesRequest&,
                     echo::BytesReply* reply) override {
    read_at = context->request_attachment().data();
    reply->set_size(context->request_attachment().size());
    *context->mutable_response_attachment() = context->TakeRequestAttachment();
    taken_to = context->mutable_response_attachment()->data();
    left_behind = context->request_attachment().size();
    return absl::OkStatus();
  }
  const char* read_at = nullptr;
  const char* taken_to = nullptr;
  size_t left_behind = 1;
};

TEST(DispatcherReplyTest, TakingTheRequestAttachmentMovesIt) {
  TakingEcho echo;
  Dispatcher dispatcher(FrameLimits{}, 1);
  ASSERT_TRUE(dispatcher.AddService(&echo).ok());
  const std::string attachment(1000, 'k');
  Replied replied = Serve(&dispatcher, attachment, /*separate_tail=*/true);
  EXPECT_EQ(echo.taken_to, echo.read_at);  // the request's own storage, not a copy
  EXPECT_EQ(echo.left_behind, 0u);
  EXPECT_TRUE(replied.tail == attachment);
}

TEST(DispatcherReplyTest, TakingAnAttachmentBehindALongMessageCopiesIt) {
  // An attachment that shares its string with a message the codec keeps whole cannot be moved
  // out without taking the message's bytes too: it is copied, and the handler sees no difference.
  TakingEcho echo;
  Dispatcher dispatcher(FrameLimits{}, 1);
  ASSERT_TRUE(dispatcher.AddService(&echo).ok());
  Envelope envelope;
  envelope.set_kind(REQUEST);
  envelope.set_call_id(8);
  envelope.set_method(echo::EchoService::kBytesMethodName);
  Envelope request;                          // parses as a BytesRequest with an unknown field
  request.set_method(std::string(64, 'd'));  // longer than std::string holds inline
  std::string wire;
  ASSERT_TRUE(EncodeFrame(envelope, &request, "tail bytes", FrameLimits{}, &wire).ok());
  Frame frame;
  ASSERT_EQ(DecodeFrame(wire, FrameLimits{}, &frame).outcome, DecodeOutcome::kFrame);
  ASSERT_FALSE(frame.AttachmentTakenWhole());
  std::shared_ptr<ServerCall> call = Dispatcher::NewCall(std::move(frame), "test", PeerIdentity());
  Replied replied;
  dispatcher.Dispatch(std::move(call), /*allow_offload=*/false,
                      [&](std::shared_ptr<ServerCall> done, std::string reply) {
                        replied.frame = std::move(reply);
                      });
  EXPECT_NE(echo.taken_to, echo.read_at);
  EXPECT_EQ(echo.left_behind, 0u);
  EXPECT_EQ(Decode(replied.frame).attachment(), "tail bytes");
}

TEST(DispatcherNewCallTest, AReusedFrameKeepsItsEnvelopeAndTheContextNamesTheServicesMethod) {
  RecordingEcho echo;
  Dispatcher dispatcher(FrameLimits{}, 1);
  ASSERT_TRUE(dispatcher.AddService(&echo).ok());
  Frame frame = BytesRequestFrame("payload");
  const Dispatcher::Route* route = dispatcher.FindRoute(frame.envelope.method());
  ASSERT_NE(route, nullptr);
  const char* method_storage = frame.envelope.method().data();
  std::shared_ptr<ServerCall> call = Dispatcher::NewCall(&frame, route, "test", PeerIdentity());
  EXPECT_EQ(&call->context.method(), route->full_name);  // the service's string, not a copy
  EXPECT_EQ(call->context.method(), echo::EchoService::kBytesMethodName);
  EXPECT_EQ(call->request_frame.attachment(), "payload");
  EXPECT_EQ(frame.payload_size(), 0u);  // taken
  EXPECT_EQ(frame.envelope.method().data(), method_storage);  // left for the next frame
  // An unknown method is copied into the context.
  Frame unknown = BytesRequestFrame("x");
  unknown.envelope.set_method("/no.Such/Method");
  call = Dispatcher::NewCall(&unknown, nullptr, "test", PeerIdentity());
  EXPECT_EQ(call->context.method(), "/no.Such/Method");
  EXPECT_EQ(unknown.envelope.method(), "/no.Such/Method");
}

// Say, remembering where its messages were and what they held when it began.
class InspectingEcho final : public echo::EchoService::Service {
 public:
  absl::Status Say(ServerContext*, const echo::SayRequest& request,
                   echo::SayReply* reply) override {
    request_at = &request;
    reply_at = reply;
    seen_request = request;
    reply_bytes_on_entry = reply->ByteSizeLong();
    reply->set_text(std::string(200, 'r') + request.text());  // a heap string in the reply
    return absl::OkStatus();
  }
  const void* request_at = nullptr;
  const void* reply_at = nullptr;
  echo::SayRequest seen_request;
  size_t reply_bytes_on_entry = 0;
};

Frame SayRequestFrame(const echo::SayRequest& request) {
  return RequestFrame(echo::EchoService::kSayMethodName, &request, "");
}

std::string ServeSay(Dispatcher* dispatcher, const echo::SayRequest& request) {
  std::string replied;
  dispatcher->Dispatch(Dispatcher::NewCall(SayRequestFrame(request), "test", PeerIdentity()),
                       /*allow_offload=*/false,
                       [&](std::shared_ptr<ServerCall>, std::string frame) {
                         replied = std::move(frame);
                       });
  return replied;
}

// The request and response of a call are the pair the last call on this thread gave back
// (echo_bench's allocs/call counts that they are not allocated again), and nothing of that call
// is left in them.
TEST(DispatcherMessagesTest, TheNextCallReusesTheMessagesEmpty) {
  InspectingEcho echo;
  Dispatcher dispatcher(FrameLimits{}, 1);
  ASSERT_TRUE(dispatcher.AddService(&echo).ok());
  echo::SayRequest first;
  first.set_text("first");
  first.set_uppercase(true);
  ServeSay(&dispatcher, first);
  const void* request_at = echo.request_at;
  const void* reply_at = echo.reply_at;
  echo::SayRequest second;
  second.set_text("second");
  const std::string wire = ServeSay(&dispatcher, second);
  EXPECT_EQ(echo.request_at, request_at);
  EXPECT_EQ(echo.reply_at, reply_at);
  EXPECT_EQ(echo.seen_request.text(), "second");
  EXPECT_FALSE(echo.seen_request.uppercase());  // not the first call's
  EXPECT_EQ(echo.reply_bytes_on_entry, 0u);
  const Frame frame = Decode(wire);
  echo::SayReply reply;
  ASSERT_TRUE(reply.ParseFromArray(frame.message_bytes().data(),
                                   static_cast<int>(frame.message_bytes().size())));
  EXPECT_EQ(reply.text(), std::string(200, 'r') + "second");
  // A request that does not parse still gives its messages back, and the next call is clean.
  Frame bad = SayRequestFrame(first);
  bad.payload.assign("\xff\xff\xff");
  std::string refused;
  dispatcher.Dispatch(Dispatcher::NewCall(std::move(bad), "test", PeerIdentity()), false,
                      [&](std::shared_ptr<ServerCall>, std::string frame) {
                        refused = std::move(frame);
                      });
  EXPECT_EQ(Decode(refused).envelope.status_code(),
            static_cast<int>(absl::StatusCode::kInvalidArgument));
  ServeSay(&dispatcher, second);
  EXPECT_EQ(echo.request_at, request_at);
  EXPECT_FALSE(echo.seen_request.uppercase());
}

// An OK reply's head is built in a spare string of this thread (one a written head gave back).
TEST(DispatcherReplyTest, TheHeadIsBuiltInThisThreadsSpareString) {
  RecordingEcho echo;
  Dispatcher dispatcher(FrameLimits{}, 1);
  ASSERT_TRUE(dispatcher.AddService(&echo).ok());
  while (SpareStrings::KeptByThisThread() > 0) SpareStrings::Take();
  std::string spare(256, 's');
  const char* buffer = spare.data();
  SpareStrings::Give(std::move(spare));
  Replied replied = Serve(&dispatcher, "attachment", /*separate_tail=*/true);
  EXPECT_EQ(replied.frame.data(), buffer);
  EXPECT_EQ(Decode(replied.frame + replied.tail).attachment(), "attachment");
  EXPECT_EQ(SpareStrings::KeptByThisThread(), 0);
}

}  // namespace
}  // namespace framerpc

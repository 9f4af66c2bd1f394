// Checks the code generated for tools/testdata/streaming.proto, one method of each kind: the
// method table (kinds, types), the UNIMPLEMENTED defaults, the server side driven through
// MethodHandler::InvokeStream over a fake ServerStreamBase, and the client stubs over a fake
// Channel whose calls are served by the generated handlers, one step after another on the test's
// thread. No transport is involved: the end-to-end tests over a real server live with it.
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/message.h"
#include "gtest/gtest.h"
#include "rpc/channel.h"
#include "rpc/context.h"
#include "rpc/service.h"
#include "rpc/stream.h"
#include "tools/testdata/streaming.frpc.h"

namespace framerpc {
namespace {

using tools::testdata::Arith;
using tools::testdata::Operand;
using tools::testdata::Result;

constexpr char kResultType[] = "framerpc.tools.testdata.Result";

Operand MakeOperand(int64_t value) {
  Operand operand;
  operand.set_value(value);
  return operand;
}

// One message as it crossed a stream: serialized, with its attachment and type.
struct Sent {
  std::string bytes;
  std::string attachment;
  std::string type;
};

// Parses the Result messages among `sent`; fails the test on any other type.
std::vector<int64_t> ResultValues(const std::vector<Sent>& sent) {
  std::vector<int64_t> values;
  for (const Sent& message : sent) {
    EXPECT_EQ(message.type, kResultType);
    Result result;
    EXPECT_TRUE(result.ParseFromString(message.bytes));
    values.push_back(result.value());
  }
  return values;
}

// The server's end of one call: Read() hands out the queued client messages and then reports
// the half-close; Write() records, and fails once `writes_left` reaches 0 (the call has ended).
class FakeServerStream final : public ServerStreamBase {
 public:
  void Push(const google::protobuf::MessageLite& message, std::string attachment = "") {
    incoming.push_back({message.SerializeAsString(), std::move(attachment),
                        message.GetTypeName()});
  }

  bool Read(google::protobuf::MessageLite* message, std::string* attachment) override {
    if (incoming.empty()) return false;
    Sent next = std::move(incoming.front());
    incoming.pop_front();
    if (!message->ParseFromString(next.bytes)) return false;
    if (attachment != nullptr) *attachment = std::move(next.attachment);
    return true;
  }

  bool Write(const google::protobuf::MessageLite& message,
             absl::string_view attachment) override {
    if (writes_left == 0) return false;
    if (writes_left > 0) --writes_left;
    written.push_back({message.SerializeAsString(), std::string(attachment),
                       message.GetTypeName()});
    return true;
  }

  std::deque<Sent> incoming;
  std::vector<Sent> written;
  int writes_left = -1;  // negative: unlimited
};

// Every method implemented; counts the calls that reach the methods themselves.
class ArithImpl final : public Arith::Service {
 public:
  absl::Status Increment(ServerContext*, const Operand& request, Result* response) override {
    response->set_value(request.value() + 1);
    return absl::OkStatus();
  }

  absl::Status Count(ServerContext*, const Operand& request,
                     ServerWriter<Result>* writer) override {
    ++count_calls;
    if (request.value() < 0) return absl::InvalidArgumentError("negative count");
    for (int64_t i = 1; i <= request.value(); ++i) {
      Result result;
      result.set_value(i);
      if (!writer->Write(result)) return absl::CancelledError("the client went away");
    }
    return absl::OkStatus();
  }

  absl::Status Sum(ServerContext*, ServerReader<Operand>* reader, Result* response) override {
    int64_t sum = 0;
    Operand operand;
    while (reader->Read(&operand)) {
      if (operand.value() < 0) {
        return absl::InvalidArgumentError(absl::StrCat("negative operand ", operand.value()));
      }
      sum += operand.value();
    }
    response->set_value(sum);
    return absl::OkStatus();
  }

  // Each reply carries the attachment of the request it answers.
  absl::Status Double(ServerContext*, ServerReaderWriter<Result, Operand>* stream) override {
    Operand operand;
    std::string attachment;
    while (stream->Read(&operand, &attachment)) {
      Result result;
      result.set_value(2 * operand.value());
      if (!stream->Write(result, attachment)) return absl::CancelledError("the client went away");
    }
    return absl::OkStatus();
  }

  int count_calls = 0;
};

// The handler registered for `full_name`, or null.
const MethodHandler* FindHandler(const Service& service, const std::string& full_name) {
  for (const MethodEntry& entry : service.methods()) {
    if (entry.full_name == full_name) return entry.handler.get();
  }
  return nullptr;
}

// Runs `method` of `service` over `stream` as the dispatcher would; `response` receives the
// response message (meaningful for client-streaming calls).
absl::Status InvokeStream(const Service& service, const std::string& method,
                          FakeServerStream* stream, Result* response = nullptr) {
  const MethodHandler* handler = FindHandler(service, method);
  if (handler == nullptr) return absl::NotFoundError("no method " + method);
  std::unique_ptr<google::protobuf::Message> reply = handler->NewResponse();
  ServerContext context;
  const absl::Status status = handler->InvokeStream(&context, stream, reply.get());
  if (response != nullptr) response->CopyFrom(*reply);
  return status;
}

// ---------------------------------------------------------------------------------------------
// The method table and the defaults.

TEST(FrpcCppStreamingTest, EveryMethodIsRegisteredWithItsKindAndTypes) {
  Arith::Service service;
  const std::map<std::string, MethodKind> expected = {
      {Arith::kIncrementMethodName, MethodKind::kUnary},
      {Arith::kCountMethodName, MethodKind::kServerStreaming},
      {Arith::kSumMethodName, MethodKind::kClientStreaming},
      {Arith::kDoubleMethodName, MethodKind::kBidiStreaming},
  };
  std::map<std::string, MethodKind> registered;
  for (const MethodEntry& entry : service.methods()) {
    registered[entry.full_name] = entry.handler->kind();
    EXPECT_EQ(entry.handler->NewRequest()->GetDescriptor()->full_name(),
              "framerpc.tools.testdata.Operand");
    EXPECT_EQ(entry.handler->NewResponse()->GetDescriptor()->full_name(), kResultType);
  }
  EXPECT_EQ(registered, expected);
  EXPECT_EQ(service.methods().size(), 4u);
  EXPECT_STREQ(Arith::kCountMethodName, "/framerpc.tools.testdata.Arith/Count");
  ASSERT_NE(service.descriptor(), nullptr);
  EXPECT_TRUE(service.descriptor()->FindMethodByName("Double")->client_streaming());
  EXPECT_TRUE(service.descriptor()->FindMethodByName("Double")->server_streaming());
}

TEST(FrpcCppStreamingTest, UnimplementedStreamingMethodsAnswerUnimplemented) {
  Arith::Service service;
  for (const char* method :
       {Arith::kCountMethodName, Arith::kSumMethodName, Arith::kDoubleMethodName}) {
    FakeServerStream stream;
    stream.Push(MakeOperand(1));
    const absl::Status status = InvokeStream(service, method, &stream);
    EXPECT_EQ(status.code(), absl::StatusCode::kUnimplemented) << method;
    EXPECT_EQ(status.message(), absl::StrCat("method ", method, " is not implemented"));
    EXPECT_TRUE(stream.written.empty()) << method;
  }
}

TEST(FrpcCppStreamingTest, UnaryMethodBesideStreamingOnesStillInvokes) {
  ArithImpl service;
  const MethodHandler* handler = FindHandler(service, Arith::kIncrementMethodName);
  ASSERT_NE(handler, nullptr);
  ServerContext context;
  Result result;
  ASSERT_TRUE(handler->Invoke(&context, MakeOperand(41), &result).ok());
  EXPECT_EQ(result.value(), 42);
}

// ---------------------------------------------------------------------------------------------
// The server side, through InvokeStream.

TEST(FrpcCppStreamingTest, ServerStreamingReadsTheRequestAndStreamsReplies) {
  ArithImpl service;
  FakeServerStream stream;
  stream.Push(MakeOperand(3));
  ASSERT_TRUE(InvokeStream(service, Arith::kCountMethodName, &stream).ok());
  EXPECT_EQ(ResultValues(stream.written), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_TRUE(stream.incoming.empty());
}

TEST(FrpcCppStreamingTest, ServerStreamingWithoutARequestIsInvalidArgument) {
  ArithImpl service;
  FakeServerStream stream;  // The client half-closed without a message.
  const absl::Status status = InvokeStream(service, Arith::kCountMethodName, &stream);
  EXPECT_EQ(status, absl::InvalidArgumentError("missing request message"));
  EXPECT_EQ(service.count_calls, 0);
  EXPECT_TRUE(stream.written.empty());
}

TEST(FrpcCppStreamingTest, ServerStreamingHandlerStatusPropagates) {
  ArithImpl service;
  FakeServerStream negative;
  negative.Push(MakeOperand(-1));
  EXPECT_EQ(InvokeStream(service, Arith::kCountMethodName, &negative),
            absl::InvalidArgumentError("negative count"));

  FakeServerStream ended;  // The call ends after one reply.
  ended.Push(MakeOperand(3));
  ended.writes_left = 1;
  EXPECT_EQ(InvokeStream(service, Arith::kCountMethodName, &ended),
            absl::CancelledError("the client went away"));
  EXPECT_EQ(ResultValues(ended.written), (std::vector<int64_t>{1}));
}

TEST(FrpcCppStreamingTest, ClientStreamingReadsEveryRequestAndFillsTheResponse) {
  ArithImpl service;
  FakeServerStream stream;
  for (int64_t value : {1, 2, 3, 4}) stream.Push(MakeOperand(value));
  Result response;
  ASSERT_TRUE(InvokeStream(service, Arith::kSumMethodName, &stream, &response).ok());
  EXPECT_EQ(response.value(), 10);
  EXPECT_TRUE(stream.incoming.empty());
  EXPECT_TRUE(stream.written.empty());  // The response travels with the status, not the stream.
}

TEST(FrpcCppStreamingTest, ClientStreamingHandlerStatusPropagates) {
  ArithImpl service;
  FakeServerStream stream;
  for (int64_t value : {1, -2, 3}) stream.Push(MakeOperand(value));
  EXPECT_EQ(InvokeStream(service, Arith::kSumMethodName, &stream),
            absl::InvalidArgumentError("negative operand -2"));
  EXPECT_EQ(stream.incoming.size(), 1u);  // Stopped at the bad operand.
}

TEST(FrpcCppStreamingTest, BidiAnswersEachMessageWithItsAttachment) {
  ArithImpl service;
  FakeServerStream stream;
  stream.Push(MakeOperand(1), "first");
  stream.Push(MakeOperand(5), "");
  stream.Push(MakeOperand(-7), std::string("\0raw", 4));
  ASSERT_TRUE(InvokeStream(service, Arith::kDoubleMethodName, &stream).ok());
  EXPECT_EQ(ResultValues(stream.written), (std::vector<int64_t>{2, 10, -14}));
  ASSERT_EQ(stream.written.size(), 3u);
  EXPECT_EQ(stream.written[0].attachment, "first");
  EXPECT_EQ(stream.written[1].attachment, "");
  EXPECT_EQ(stream.written[2].attachment, std::string("\0raw", 4));
}

TEST(FrpcCppStreamingTest, BidiHandlerStatusPropagatesWhenTheCallEnds) {
  ArithImpl service;
  FakeServerStream stream;
  stream.Push(MakeOperand(1));
  stream.Push(MakeOperand(2));
  stream.writes_left = 0;
  EXPECT_EQ(InvokeStream(service, Arith::kDoubleMethodName, &stream),
            absl::CancelledError("the client went away"));
  EXPECT_EQ(stream.incoming.size(), 1u);
}

// ---------------------------------------------------------------------------------------------
// The client side: the stubs over a fake channel.

// One streaming call as both ends see it, driven step by step by the test: the client writes and
// half-closes, Serve() runs the generated handler over what it wrote, then the client reads the
// replies and Finish() returns the handler's status (and fills a client-streaming response).
class LoopbackCall final : public ClientStreamBase {
 public:
  LoopbackCall(std::string method, MethodKind kind, ClientContext* context,
               google::protobuf::MessageLite* response)
      : method(std::move(method)), kind(kind), context(context), response(response) {}

  // Client side.
  bool Write(const google::protobuf::MessageLite& message,
             absl::string_view attachment) override {
    if (half_closed || status.has_value()) return false;
    server.Push(message, std::string(attachment));
    return true;
  }
  void WriteAsync(const google::protobuf::MessageLite& message, std::string attachment,
                  std::function<void(bool ok)> done) override {
    done(Write(message, attachment));
  }
  bool WritesDone() override {
    if (half_closed || status.has_value()) return false;
    half_closed = true;
    return true;
  }
  bool Read(google::protobuf::MessageLite* message, std::string* attachment) override {
    if (next_reply >= server.written.size()) return false;
    const Sent& reply = server.written[next_reply++];
    if (attachment != nullptr) *attachment = reply.attachment;
    return message->ParseFromString(reply.bytes);
  }
  void ReadAsync(google::protobuf::MessageLite* message, std::string* attachment,
                 std::function<void(bool ok)> done) override {
    done(Read(message, attachment));
  }
  absl::Status Finish() override {
    return status.value_or(absl::InternalError("the test never served this call"));
  }
  void FinishAsync(std::function<void(absl::Status)> done) override { done(Finish()); }

  // Runs the handler `service` registered for `method` over everything the client wrote.
  void Serve(const Service& service) {
    EXPECT_TRUE(half_closed) << "served before the client half-closed";
    const MethodHandler* handler = FindHandler(service, method);
    ASSERT_NE(handler, nullptr) << method;
    EXPECT_EQ(handler->kind(), kind);
    std::unique_ptr<google::protobuf::Message> reply = handler->NewResponse();
    ServerContext server_context;
    status = handler->InvokeStream(&server_context, &server, reply.get());
    if (status->ok() && response != nullptr) {
      ASSERT_TRUE(response->ParseFromString(reply->SerializeAsString()));
    }
  }

  const std::string method;
  const MethodKind kind;
  ClientContext* const context;
  google::protobuf::MessageLite* const response;
  FakeServerStream server;  // What the client wrote, and the handler's replies.
  bool half_closed = false;
  size_t next_reply = 0;
  std::optional<absl::Status> status;  // Set when the call has ended.
};

// Hands out LoopbackCalls, keeping a pointer to each (they are owned by the stream objects that
// the stubs return). Unary calls are not used by these tests.
class LoopbackChannel final : public Channel {
 public:
  std::unique_ptr<ClientStreamBase> StartStream(absl::string_view method, MethodKind kind,
                                                ClientContext* context,
                                                google::protobuf::MessageLite* response) override {
    auto call = std::make_unique<LoopbackCall>(std::string(method), kind, context, response);
    if (!start_status.ok()) call->status = start_status;
    calls.push_back(call.get());
    return call;
  }
  void StartCall(absl::string_view, ClientContext*, const google::protobuf::MessageLite&,
                 google::protobuf::MessageLite*, DoneCallback done) override {
    done(absl::UnimplementedError("unary calls are not faked"));
  }
  void CancelCall(uint64_t) override {}
  const std::string& target() const override { return target_; }

  std::vector<LoopbackCall*> calls;
  // Ends every new call at once with this status when not OK, as a channel that cannot stream.
  absl::Status start_status;

 private:
  const std::string target_ = "loopback";
};

TEST(FrpcCppStreamingTest, StubServerStreamingSendsTheRequestHalfClosesAndReads) {
  LoopbackChannel channel;
  Arith::Stub stub(&channel);
  ClientContext context;
  std::unique_ptr<ClientReader<Result>> reader = stub.Count(&context, MakeOperand(3));
  ASSERT_NE(reader, nullptr);
  ASSERT_EQ(channel.calls.size(), 1u);
  LoopbackCall& call = *channel.calls[0];
  EXPECT_EQ(call.method, Arith::kCountMethodName);
  EXPECT_EQ(call.kind, MethodKind::kServerStreaming);
  EXPECT_EQ(call.context, &context);
  EXPECT_EQ(call.response, nullptr);
  ASSERT_EQ(call.server.incoming.size(), 1u);  // The request, then the half-close.
  EXPECT_EQ(call.server.incoming[0].type, "framerpc.tools.testdata.Operand");
  EXPECT_TRUE(call.half_closed);

  ArithImpl service;
  call.Serve(service);
  std::vector<int64_t> values;
  Result result;
  while (reader->Read(&result)) values.push_back(result.value());
  EXPECT_EQ(values, (std::vector<int64_t>{1, 2, 3}));
  EXPECT_TRUE(reader->Finish().ok());
}

TEST(FrpcCppStreamingTest, StubServerStreamingReportsTheHandlersErrorThroughFinish) {
  LoopbackChannel channel;
  Arith::Stub stub(&channel);
  ClientContext context;
  std::unique_ptr<ClientReader<Result>> reader = stub.Count(&context, MakeOperand(-1));
  ArithImpl service;
  channel.calls.at(0)->Serve(service);
  Result result;
  EXPECT_FALSE(reader->Read(&result));
  EXPECT_EQ(reader->Finish(), absl::InvalidArgumentError("negative count"));
}

TEST(FrpcCppStreamingTest, StubServerStreamingOnAnEndedCallStillReturnsAReader) {
  LoopbackChannel channel;  // As a udp: channel, which cannot stream.
  channel.start_status = absl::UnimplementedError("streaming needs a stream socket");
  Arith::Stub stub(&channel);
  ClientContext context;
  std::unique_ptr<ClientReader<Result>> reader = stub.Count(&context, MakeOperand(3));
  ASSERT_NE(reader, nullptr);  // The failed write and half-close are reported by Finish().
  EXPECT_FALSE(channel.calls.at(0)->half_closed);
  Result result;
  EXPECT_FALSE(reader->Read(&result));
  EXPECT_EQ(reader->Finish(), channel.start_status);
}

TEST(FrpcCppStreamingTest, StubClientStreamingFillsTheResponseOnFinish) {
  LoopbackChannel channel;
  Arith::Stub stub(&channel);
  ClientContext context;
  Result response;
  std::unique_ptr<ClientWriter<Operand>> writer = stub.Sum(&context, &response);
  ASSERT_NE(writer, nullptr);
  LoopbackCall& call = *channel.calls.at(0);
  EXPECT_EQ(call.method, Arith::kSumMethodName);
  EXPECT_EQ(call.kind, MethodKind::kClientStreaming);
  EXPECT_EQ(call.context, &context);
  EXPECT_EQ(call.response, &response);
  EXPECT_TRUE(call.server.incoming.empty());  // Nothing is sent until the caller writes.
  EXPECT_FALSE(call.half_closed);

  for (int64_t value : {1, 2, 3, 4}) EXPECT_TRUE(writer->Write(MakeOperand(value)));
  bool async_ok = false;
  writer->WriteAsync(MakeOperand(5), "", [&](bool ok) { async_ok = ok; });
  EXPECT_TRUE(async_ok);
  EXPECT_TRUE(writer->WritesDone());
  EXPECT_FALSE(writer->Write(MakeOperand(6)));

  ArithImpl service;
  call.Serve(service);
  EXPECT_TRUE(writer->Finish().ok());
  EXPECT_EQ(response.value(), 15);
}

TEST(FrpcCppStreamingTest, StubClientStreamingReportsTheHandlersError) {
  LoopbackChannel channel;
  Arith::Stub stub(&channel);
  ClientContext context;
  Result response;
  std::unique_ptr<ClientWriter<Operand>> writer = stub.Sum(&context, &response);
  EXPECT_TRUE(writer->Write(MakeOperand(-3)));
  EXPECT_TRUE(writer->WritesDone());
  ArithImpl service;
  channel.calls.at(0)->Serve(service);
  EXPECT_EQ(writer->Finish(), absl::InvalidArgumentError("negative operand -3"));
  EXPECT_EQ(response.value(), 0);  // Left alone unless OK.
}

TEST(FrpcCppStreamingTest, StubBidiExchangesMessagesAndAttachments) {
  LoopbackChannel channel;
  Arith::Stub stub(&channel);
  ClientContext context;
  std::unique_ptr<ClientReaderWriter<Operand, Result>> stream = stub.Double(&context);
  ASSERT_NE(stream, nullptr);
  LoopbackCall& call = *channel.calls.at(0);
  EXPECT_EQ(call.method, Arith::kDoubleMethodName);
  EXPECT_EQ(call.kind, MethodKind::kBidiStreaming);
  EXPECT_EQ(call.context, &context);
  EXPECT_EQ(call.response, nullptr);
  EXPECT_TRUE(call.server.incoming.empty());

  EXPECT_TRUE(stream->Write(MakeOperand(1), "one"));
  EXPECT_TRUE(stream->Write(MakeOperand(21)));
  EXPECT_TRUE(stream->WritesDone());
  ArithImpl service;
  call.Serve(service);

  Result result;
  std::string attachment;
  ASSERT_TRUE(stream->Read(&result, &attachment));
  EXPECT_EQ(result.value(), 2);
  EXPECT_EQ(attachment, "one");
  bool async_ok = false;
  stream->ReadAsync(&result, &attachment, [&](bool ok) { async_ok = ok; });
  ASSERT_TRUE(async_ok);
  EXPECT_EQ(result.value(), 42);
  EXPECT_EQ(attachment, "");
  EXPECT_FALSE(stream->Read(&result));
  absl::Status finished = absl::UnknownError("FinishAsync did not run");
  stream->FinishAsync([&](absl::Status status) { finished = std::move(status); });
  EXPECT_TRUE(finished.ok()) << finished;
}

}  // namespace
}  // namespace framerpc

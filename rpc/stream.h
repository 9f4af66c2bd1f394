// Streaming calls: the typed reader and writer objects that generated code hands to handlers
// (server side) and returns to callers (client side). The wire protocol, including the per-stream
// credit flow control, is docs/protocol.md §11.
//
// Server side: a handler runs on a thread of its own for the whole call and may block in Read()
// and Write(). Write() blocks while the client has granted no credit, so a slow reader stops the
// handler instead of growing a buffer.
//
// Client side: a stream object is returned by the generated stub as soon as the call has been
// started. Every operation has a blocking form and a callback form; callbacks run on the
// channel's I/O thread and must not block. At most one read and one write may be outstanding at a
// time (as in gRPC): a WriteAsync made before the previous one's callback has started is refused
// (see WriteAsync), so a writer holds at most one unsent message in the stream. The ClientContext
// must outlive the stream object. Destroying a stream whose call has not finished cancels the
// call.
#ifndef FRAMERPC_RPC_STREAM_H_
#define FRAMERPC_RPC_STREAM_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message_lite.h"

namespace framerpc {

enum class MethodKind { kUnary, kServerStreaming, kClientStreaming, kBidiStreaming };

inline bool ClientSends(MethodKind kind) {
  return kind == MethodKind::kClientStreaming || kind == MethodKind::kBidiStreaming;
}
inline bool ServerSends(MethodKind kind) {
  return kind == MethodKind::kServerStreaming || kind == MethodKind::kBidiStreaming;
}

// ---------------------------------------------------------------------------------------------
// Server side

// Implemented by each transport that serves streaming calls (the framed server, the gRPC
// adapter). Used by one handler thread at a time.
class ServerStreamBase {
 public:
  virtual ~ServerStreamBase() = default;
  // Blocks for the next client message. false once the client has half-closed, the call has
  // ended (cancelled, deadline, disconnect), or the message did not parse (the call then ends
  // with INVALID_ARGUMENT whatever the handler returns). `attachment` may be null.
  virtual bool Read(google::protobuf::MessageLite* message, std::string* attachment) = 0;
  // Blocks until the client has granted credit, then sends. false once the call has ended or if
  // the message breaks the frame limits (the call then ends with RESOURCE_EXHAUSTED).
  virtual bool Write(const google::protobuf::MessageLite& message,
                     absl::string_view attachment) = 0;
};

template <typename Req>
class ServerReader {
 public:
  explicit ServerReader(ServerStreamBase* stream) : stream_(stream) {}
  bool Read(Req* message, std::string* attachment = nullptr) {
    return stream_->Read(message, attachment);
  }

 private:
  ServerStreamBase* stream_;
};

template <typename Resp>
class ServerWriter {
 public:
  explicit ServerWriter(ServerStreamBase* stream) : stream_(stream) {}
  // `attachment`: raw bytes sent beside the message without a protobuf copy.
  bool Write(const Resp& message, absl::string_view attachment = {}) {
    return stream_->Write(message, attachment);
  }

 private:
  ServerStreamBase* stream_;
};

template <typename Resp, typename Req>
class ServerReaderWriter {
 public:
  explicit ServerReaderWriter(ServerStreamBase* stream) : stream_(stream) {}
  bool Read(Req* message, std::string* attachment = nullptr) {
    return stream_->Read(message, attachment);
  }
  bool Write(const Resp& message, absl::string_view attachment = {}) {
    return stream_->Write(message, attachment);
  }

 private:
  ServerStreamBase* stream_;
};

// ---------------------------------------------------------------------------------------------
// Client side

// Implemented by the channel. Thread-safe in the sense given in the file comment.
class ClientStreamBase {
 public:
  // Cancels the call if it has not finished.
  virtual ~ClientStreamBase() = default;

  // Blocks until the server has granted credit, then sends. false once the call has ended (see
  // Finish() for why) or after WritesDone().
  virtual bool Write(const google::protobuf::MessageLite& message,
                     absl::string_view attachment) = 0;
  // Serializes `message` now; `done(true)` once it has been handed to the connection (which
  // waits for flow-control credit), `done(false)` as for Write(). One at a time: the next
  // WriteAsync may be made from `done` (or after it has started); one made earlier fails with
  // `done(false)` without being sent (FAILED_PRECONDITION inside), and the call goes on.
  virtual void WriteAsync(const google::protobuf::MessageLite& message, std::string attachment,
                          std::function<void(bool ok)> done) = 0;
  // Half-closes: the server's Read() returns false once it has read everything before it.
  virtual bool WritesDone() = 0;

  // Blocks for the next server message. false at the end of the server's messages or of the call.
  virtual bool Read(google::protobuf::MessageLite* message, std::string* attachment) = 0;
  // `message` and `attachment` (may be null) must stay valid until `done` runs.
  virtual void ReadAsync(google::protobuf::MessageLite* message, std::string* attachment,
                         std::function<void(bool ok)> done) = 0;

  // Waits for the call to end and returns its status. Server messages not yet read are discarded
  // (their credit is returned, so the server can finish). For a client-streaming call, an OK
  // status means the response message has been filled in.
  virtual absl::Status Finish() = 0;
  virtual void FinishAsync(std::function<void(absl::Status)> done) = 0;
};

// Server-streaming: read the replies, then Finish().
template <typename Resp>
class ClientReader {
 public:
  explicit ClientReader(std::unique_ptr<ClientStreamBase> stream) : stream_(std::move(stream)) {}
  bool Read(Resp* message, std::string* attachment = nullptr) {
    return stream_->Read(message, attachment);
  }
  void ReadAsync(Resp* message, std::string* attachment, std::function<void(bool ok)> done) {
    stream_->ReadAsync(message, attachment, std::move(done));
  }
  absl::Status Finish() { return stream_->Finish(); }
  void FinishAsync(std::function<void(absl::Status)> done) { stream_->FinishAsync(std::move(done)); }

 private:
  std::unique_ptr<ClientStreamBase> stream_;
};

// Client-streaming: write the requests, WritesDone(), then Finish() fills the response given to
// the stub.
template <typename Req>
class ClientWriter {
 public:
  explicit ClientWriter(std::unique_ptr<ClientStreamBase> stream) : stream_(std::move(stream)) {}
  bool Write(const Req& message, absl::string_view attachment = {}) {
    return stream_->Write(message, attachment);
  }
  void WriteAsync(const Req& message, std::string attachment, std::function<void(bool ok)> done) {
    stream_->WriteAsync(message, std::move(attachment), std::move(done));
  }
  bool WritesDone() { return stream_->WritesDone(); }
  absl::Status Finish() { return stream_->Finish(); }
  void FinishAsync(std::function<void(absl::Status)> done) { stream_->FinishAsync(std::move(done)); }

 private:
  std::unique_ptr<ClientStreamBase> stream_;
};

// Bidirectional: reads and writes may proceed concurrently (one of each at a time).
template <typename Req, typename Resp>
class ClientReaderWriter {
 public:
  explicit ClientReaderWriter(std::unique_ptr<ClientStreamBase> stream)
      : stream_(std::move(stream)) {}
  bool Write(const Req& message, absl::string_view attachment = {}) {
    return stream_->Write(message, attachment);
  }
  void WriteAsync(const Req& message, std::string attachment, std::function<void(bool ok)> done) {
    stream_->WriteAsync(message, std::move(attachment), std::move(done));
  }
  bool WritesDone() { return stream_->WritesDone(); }
  bool Read(Resp* message, std::string* attachment = nullptr) {
    return stream_->Read(message, attachment);
  }
  void ReadAsync(Resp* message, std::string* attachment, std::function<void(bool ok)> done) {
    stream_->ReadAsync(message, attachment, std::move(done));
  }
  absl::Status Finish() { return stream_->Finish(); }
  void FinishAsync(std::function<void(absl::Status)> done) { stream_->FinishAsync(std::move(done)); }

 private:
  std::unique_ptr<ClientStreamBase> stream_;
};

}  // namespace framerpc

#endif  // FRAMERPC_RPC_STREAM_H_

// The server-side contract between generated service code and the dispatcher. The dispatcher
// knows methods only through this interface; it never names a particular service.
#ifndef FRAMERPC_RPC_SERVICE_H_
#define FRAMERPC_RPC_SERVICE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "google/protobuf/message.h"
#include "rpc/context.h"
#include "rpc/stream.h"

namespace framerpc {

// A unary call's request and response messages, made together (one allocation for both).
class CallMessages {
 public:
  virtual ~CallMessages() = default;
  virtual google::protobuf::Message* request() = 0;
  virtual google::protobuf::Message* response() = 0;
  // Frees what the request holds (its strings, sub-messages) once the handler is done with it.
  virtual void ReleaseRequest() = 0;
  // Ends the call's use of both messages: deletes this, or frees what the messages hold and
  // keeps the pair for the next call on this thread (typed handlers).
  virtual void Recycle() { delete this; }
};

struct RecycleCallMessages {
  void operator()(CallMessages* messages) const { messages->Recycle(); }
};
using CallMessagesPtr = std::unique_ptr<CallMessages, RecycleCallMessages>;

// One method. Implementations are stateless adaptors that are safe to call concurrently.
class MethodHandler {
 public:
  virtual ~MethodHandler() = default;
  // A request and a response for one unary call. This default makes them one at a time
  // (NewRequest, NewResponse); typed handlers make both in one allocation, and reuse the pair
  // the last call on the same thread gave back.
  virtual CallMessagesPtr NewCallMessages() const;
  virtual MethodKind kind() const { return MethodKind::kUnary; }
  // Fresh, empty messages of the method's request and response types.
  virtual std::unique_ptr<google::protobuf::Message> NewRequest() const = 0;
  virtual std::unique_ptr<google::protobuf::Message> NewResponse() const = 0;
  // Runs a unary method. `response` is meaningful only when OK is returned.
  virtual absl::Status Invoke(ServerContext* context, const google::protobuf::Message& request,
                              google::protobuf::Message* response) const {
    return absl::InternalError("not a unary method");
  }
  // Runs a streaming method over `stream`, on a thread of its own. `response` (from
  // NewResponse()) is sent with the final status of a client-streaming call when OK.
  virtual absl::Status InvokeStream(ServerContext* context, ServerStreamBase* stream,
                                    google::protobuf::Message* response) const {
    return absl::InternalError("not a streaming method");
  }
};

struct MethodEntry {
  std::string full_name;  // "/package.Service/Method"
  std::unique_ptr<MethodHandler> handler;
};

// Base of every generated service. A service object is not owned by the server it is added to
// and must outlive it. Its methods may run concurrently on several threads.
class Service {
 public:
  virtual ~Service() = default;
  virtual const google::protobuf::ServiceDescriptor* descriptor() const = 0;
  // The method table, built by generated code. Owned by the service.
  const std::vector<MethodEntry>& methods() const { return methods_; }

 protected:
  void AddMethod(std::string full_name, std::unique_ptr<MethodHandler> handler) {
    methods_.push_back(MethodEntry{std::move(full_name), std::move(handler)});
  }

 private:
  std::vector<MethodEntry> methods_;
};

class SeparateCallMessages final : public CallMessages {
 public:
  SeparateCallMessages(std::unique_ptr<google::protobuf::Message> request,
                       std::unique_ptr<google::protobuf::Message> response)
      : request_(std::move(request)), response_(std::move(response)) {}
  google::protobuf::Message* request() override { return request_.get(); }
  google::protobuf::Message* response() override { return response_.get(); }
  void ReleaseRequest() override { request_.reset(); }

 private:
  std::unique_ptr<google::protobuf::Message> request_;
  std::unique_ptr<google::protobuf::Message> response_;
};

inline CallMessagesPtr MethodHandler::NewCallMessages() const {
  return CallMessagesPtr(new SeparateCallMessages(NewRequest(), NewResponse()));
}

// The request and response factories of a method with types Req and Resp.
template <typename Req, typename Resp>
class TypedMethodHandler : public MethodHandler {
 public:
  std::unique_ptr<google::protobuf::Message> NewRequest() const override {
    return std::make_unique<Req>();
  }
  std::unique_ptr<google::protobuf::Message> NewResponse() const override {
    return std::make_unique<Resp>();
  }
  CallMessagesPtr NewCallMessages() const override {
    std::unique_ptr<TypedCallMessages>& spare = TypedCallMessages::ThisThreadsSpare();
    if (spare != nullptr) return CallMessagesPtr(spare.release());
    return CallMessagesPtr(new TypedCallMessages);
  }

 private:
  class TypedCallMessages final : public CallMessages {
   public:
    google::protobuf::Message* request() override { return &request_; }
    google::protobuf::Message* response() override { return &response_; }
    void ReleaseRequest() override { Req().Swap(&request_); }
    // Kept empty (nothing the last call put in them stays allocated), one per thread and type.
    void Recycle() override {
      Req().Swap(&request_);
      Resp().Swap(&response_);
      std::unique_ptr<TypedCallMessages>& spare = ThisThreadsSpare();
      if (spare == nullptr) {
        spare.reset(this);
      } else {
        delete this;
      }
    }
    static std::unique_ptr<TypedCallMessages>& ThisThreadsSpare() {
      thread_local std::unique_ptr<TypedCallMessages> spare;
      return spare;
    }

   private:
    Req request_;
    Resp response_;
  };
};

// Adapts a member function `absl::Status (ServiceT::*)(ServerContext*, const Req&, Resp*)` of a
// generated service class into a MethodHandler. Used by generated code; typed end to end.
template <typename ServiceT, typename Req, typename Resp>
class UnaryMethodHandler final : public TypedMethodHandler<Req, Resp> {
 public:
  using Fn = absl::Status (ServiceT::*)(ServerContext*, const Req&, Resp*);
  UnaryMethodHandler(ServiceT* service, Fn fn) : service_(service), fn_(fn) {}

  absl::Status Invoke(ServerContext* context, const google::protobuf::Message& request,
                      google::protobuf::Message* response) const override {
    return (service_->*fn_)(context, static_cast<const Req&>(request),
                            static_cast<Resp*>(response));
  }

 private:
  ServiceT* service_;
  Fn fn_;
};

// The three streaming counterparts, used by generated code.
template <typename ServiceT, typename Req, typename Resp>
class ServerStreamingMethodHandler final : public TypedMethodHandler<Req, Resp> {
 public:
  using Fn = absl::Status (ServiceT::*)(ServerContext*, const Req&, ServerWriter<Resp>*);
  ServerStreamingMethodHandler(ServiceT* service, Fn fn) : service_(service), fn_(fn) {}

  MethodKind kind() const override { return MethodKind::kServerStreaming; }
  absl::Status InvokeStream(ServerContext* context, ServerStreamBase* stream,
                            google::protobuf::Message*) const override {
    Req request;
    std::string attachment;
    if (!stream->Read(&request, &attachment)) {
      return absl::InvalidArgumentError("missing request message");
    }
    context->set_owned_request_attachment(std::move(attachment));
    ServerWriter<Resp> writer(stream);
    return (service_->*fn_)(context, request, &writer);
  }

 private:
  ServiceT* service_;
  Fn fn_;
};

template <typename ServiceT, typename Req, typename Resp>
class ClientStreamingMethodHandler final : public TypedMethodHandler<Req, Resp> {
 public:
  using Fn = absl::Status (ServiceT::*)(ServerContext*, ServerReader<Req>*, Resp*);
  ClientStreamingMethodHandler(ServiceT* service, Fn fn) : service_(service), fn_(fn) {}

  MethodKind kind() const override { return MethodKind::kClientStreaming; }
  absl::Status InvokeStream(ServerContext* context, ServerStreamBase* stream,
                            google::protobuf::Message* response) const override {
    ServerReader<Req> reader(stream);
    return (service_->*fn_)(context, &reader, static_cast<Resp*>(response));
  }

 private:
  ServiceT* service_;
  Fn fn_;
};

template <typename ServiceT, typename Req, typename Resp>
class BidiStreamingMethodHandler final : public TypedMethodHandler<Req, Resp> {
 public:
  using Fn = absl::Status (ServiceT::*)(ServerContext*, ServerReaderWriter<Resp, Req>*);
  BidiStreamingMethodHandler(ServiceT* service, Fn fn) : service_(service), fn_(fn) {}

  MethodKind kind() const override { return MethodKind::kBidiStreaming; }
  absl::Status InvokeStream(ServerContext* context, ServerStreamBase* stream,
                            google::protobuf::Message*) const override {
    ServerReaderWriter<Resp, Req> reader_writer(stream);
    return (service_->*fn_)(context, &reader_writer);
  }

 private:
  ServiceT* service_;
  Fn fn_;
};

}  // namespace framerpc

#endif  // FRAMERPC_RPC_SERVICE_H_

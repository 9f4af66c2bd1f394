// Dispatcher: the table from "/package.Service/Method" to handlers, and the running of one unary
// call against it. It knows no particular service and no socket: callers hand it a decoded
// REQUEST frame and a function that receives the encoded RESPONSE frame. Used by the TCP/Unix
// server and by the UDP endpoint alike.
#ifndef FRAMERPC_RPC_DISPATCHER_H_
#define FRAMERPC_RPC_DISPATCHER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "rpc/call_observer.h"
#include "rpc/call_stream.h"
#include "rpc/service.h"
#include "rpc/worker_pool.h"
#include "transport/frame_codec.h"

namespace framerpc {

class EventLoop;

struct ServiceOptions {
  // true: the service's handlers run on the I/O thread that read the request (fastest; handlers
  // must not block). false: they run on the server's worker pool.
  bool run_inline = true;
  // > 0: the service's unary handlers run on this many threads of its own instead (run_inline is
  // then ignored), and a call that finds all of them busy fails at once with RESOURCE_EXHAUSTED
  // instead of waiting for one. For handlers that block for long (a command running): however
  // many such calls arrive, they never hold the shared threads that other services' calls need.
  int own_threads = 0;
};

// One call being served. Shared between the I/O thread (which may cancel it, or time it out) and
// the thread running its handler; that is why it is reference-counted.
struct ServerCall {
  uint64_t call_id = 0;
  CallTransport transport = CallTransport::kFramed;
  absl::Time arrival;  // when the request arrived (NewCall)
  ServerContext context;
  Frame request_frame;  // owns the bytes the context's request attachment points into
  // Streaming calls only: the message flow, set by the transport before Dispatch().
  std::shared_ptr<CallStream> stream;
  // Set by a transport that sends a reply as a head plus a tail (writev): a unary call's OK
  // RESPONSE is then passed to the ReplyFn as the frame's head alone, and the response
  // attachment, moved and not copied, waits in `reply_tail`. It is written on the thread that
  // calls the ReplyFn, just before that call: only the ReplyFn may take it, on that thread.
  bool separate_reply_tail = false;
  std::string reply_tail;
  // For the transport's ReplyFn, which can then capture nothing (a std::function that captures
  // nothing is not allocated): where the reply goes and the loop it is finished on. Neither is
  // read by the dispatcher.
  std::weak_ptr<void> reply_target;
  EventLoop* reply_loop = nullptr;
};

class Dispatcher {
 public:
  // Receives the encoded RESPONSE frame for a call; may be called on any thread.
  using ReplyFn = std::function<void(std::shared_ptr<ServerCall> call, std::string frame)>;

  // `observer` (may be null; not owned, must outlive the dispatcher) is told of every call.
  Dispatcher(FrameLimits limits, int worker_threads, CallObserver* observer = nullptr);
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Not thread-safe: register every service before serving. `service` must outlive this object.
  // ALREADY_EXISTS if a method name is taken.
  absl::Status AddService(Service* service, ServiceOptions options = {});

  // A call for a decoded REQUEST: the context gets the method, `peer`, its `identity`, the
  // metadata and, for a positive timeout_us, the deadline counted from now. The caller has checked
  // timeout_us >= 0.
  static std::shared_ptr<ServerCall> NewCall(Frame request, std::string peer,
                                             const PeerIdentity& identity);

  // Runs `call` (whose request_frame and context are filled in): parses the request, invokes the
  // handler inline or on the pool, and passes the RESPONSE frame to `reply` exactly once.
  // Unknown methods get UNIMPLEMENTED, unparseable requests INVALID_ARGUMENT. A streaming method
  // runs on a thread of its own over `call->stream`; without a stream (a transport that cannot
  // stream) it gets UNIMPLEMENTED.
  void Dispatch(std::shared_ptr<ServerCall> call, bool allow_offload, const ReplyFn& reply);

  // The threads of a service added with own_threads, and the count of its calls admitted to
  // them: at most `threads`, each counted from dispatch until just before its reply is sent, so
  // that a client which has its reply is never refused for the call it makes next.
  struct OwnThreads {
    std::string service;
    int threads;
    std::atomic<int> admitted{0};
    std::unique_ptr<WorkerPool> pool;
  };
  // How a method is served: its handler, whether it runs inline, and the service's own threads
  // (null: the shared pool).
  struct Route {
    const MethodHandler* handler;
    bool run_inline;
    const std::string* full_name = nullptr;  // the service's MethodEntry::full_name
    OwnThreads* own_threads = nullptr;
    CallObserver::MethodHandle observed = nullptr;  // the observer's, when there is one
  };
  // The route of `method`, or null. Stable for the dispatcher's life once serving has begun.
  const Route* FindRoute(absl::string_view method) const {
    auto it = methods_.find(method);
    return it == methods_.end() ? nullptr : &it->second;
  }
  // NewCall for a transport that reuses one Frame for the frames it decodes: takes the payload
  // and the metadata out of `*request` and leaves its envelope's strings for the next frame to
  // be parsed into. With `route` (FindRoute of the request's method) the context names the
  // method with the route's string instead of a copy.
  static std::shared_ptr<ServerCall> NewCall(Frame* request, const Route* route, std::string peer,
                                             const PeerIdentity& identity);
  // Dispatch() for a caller that has already looked the method up (`route` may be null: then
  // the call gets UNIMPLEMENTED), so that the table is searched once per call.
  void Dispatch(std::shared_ptr<ServerCall> call, const Route* route, bool allow_offload,
                const ReplyFn& reply);

  // An encoded RESPONSE frame carrying only `status`.
  std::string ErrorResponse(uint64_t call_id, const absl::Status& status) const;
  // An encoded OK RESPONSE frame with `message` (may be null) and `attachment`; the error
  // response instead if that breaks the frame limits, with *code (when given) saying which.
  std::string OkResponse(uint64_t call_id, const google::protobuf::Message* message,
                         absl::string_view attachment, absl::StatusCode* code = nullptr) const;
  // As OkResponse, but returns the frame's head alone and moves `*attachment` into `*tail`, the
  // rest of the frame; on an error response `*tail` stays empty.
  std::string OkResponseHead(uint64_t call_id, const google::protobuf::Message* message,
                             std::string* attachment, std::string* tail,
                             absl::StatusCode* code) const;

  // Waits for handlers running on the worker pools and on stream threads to return. Call once no
  // more requests arrive.
  void StopWorkers();

  // The services added, in the order they were added (for reflection and health listings).
  const std::vector<const Service*>& services() const { return services_; }
  bool HasMethod(absl::string_view method) const { return methods_.contains(method); }
  // The handler of `method`, or null.
  const MethodHandler* FindHandler(absl::string_view method) const {
    const Route* route = FindRoute(method);
    return route == nullptr ? nullptr : route->handler;
  }
  const FrameLimits& limits() const { return limits_; }
  CallObserver* observer() const { return observer_; }
  // For transports that run a call themselves (the gRPC adapter's streams), and calls refused
  // before dispatch: tell the observer, if there is one. `route` null: an unknown method.
  void RecordStarted(const Route* route, const ServerCall& call) const;
  void RecordFinished(const Route* route, const ServerCall& call, absl::StatusCode code,
                      uint64_t request_bytes, uint64_t response_bytes) const;
  void RecordStreamMessage(const Route* route, const ServerCall& call, bool received,
                           size_t bytes) const;
  // RecordStarted, then RecordFinished with `code`.
  void RecordRefusal(const ServerCall& call, const Route* route, absl::StatusCode code) const;

 private:

  void Run(const Route& route, std::shared_ptr<ServerCall> call, const ReplyFn& reply) const;
  // Runs `call` on its service's own threads, or answers RESOURCE_EXHAUSTED if they are all taken.
  void RunOnOwnThreads(const Route& route, std::shared_ptr<ServerCall> call, const ReplyFn& reply);
  void RunStream(const Route& route, std::shared_ptr<ServerCall> call,
                 const ReplyFn& reply) const;

  const FrameLimits limits_;
  CallObserver* const observer_;
  absl::flat_hash_map<std::string, Route> methods_;
  std::vector<const Service*> services_;
  std::unique_ptr<WorkerPool> workers_;
  std::vector<std::unique_ptr<OwnThreads>> own_threads_;
  std::unique_ptr<ElasticThreadPool> stream_threads_;
};

}  // namespace framerpc

#endif  // FRAMERPC_RPC_DISPATCHER_H_

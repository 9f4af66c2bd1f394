// A framerpc server for the Python client's streaming interop tests: the StreamTest service of
// clients/python/tests/stream_test.proto on the real C++ server and its streaming transport
// (docs/protocol.md §11). framerpc_server does not host a streaming service yet.
//
//   stream_interop_server ADDRESS...    prints "serving A, B" once ready; SIGTERM shuts it down.
#include <signal.h>

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "clients/python/tests/stream_test.frpc.h"
#include "rpc/server.h"

namespace framerpc::pytest {
namespace {

class StreamTestImpl final : public StreamTest::Service {
 public:
  absl::Status Unary(ServerContext* context, const Chunk& request, Summary* reply) override {
    if (request.data() == "fail") return absl::NotFoundError("no such chunk");
    reply->set_count(1);
    reply->set_bytes(request.data().size());
    return absl::OkStatus();
  }

  // `count` chunks of `size` bytes (0: until the call ends), each with the request's attachment.
  absl::Status Watch(ServerContext* context, const WatchRequest& request,
                     ServerWriter<Chunk>* writer) override {
    Chunk chunk;
    for (uint32_t i = 0; request.count() == 0 || i < request.count(); ++i) {
      chunk.set_index(i);
      chunk.set_data(std::string(request.size(), static_cast<char>(i % 251)));
      if (!writer->Write(chunk, context->request_attachment())) {
        return absl::CancelledError("the call ended under the writer");
      }
    }
    return absl::OkStatus();
  }

  absl::Status Upload(ServerContext* context, ServerReader<Chunk>* reader,
                      Summary* reply) override {
    Chunk chunk;
    std::string attachment;
    while (reader->Read(&chunk, &attachment)) {
      reply->set_count(reply->count() + 1);
      reply->set_bytes(reply->bytes() + chunk.data().size() + attachment.size());
    }
    if (context->IsCancelled()) return absl::CancelledError("cancelled");
    return absl::OkStatus();
  }

  // Each chunk back upper-cased with its attachment; "end" ends the call OK, "abort" with ABORTED.
  absl::Status Chat(ServerContext* context, ServerReaderWriter<Chunk, Chunk>* stream) override {
    Chunk chunk;
    std::string attachment;
    while (stream->Read(&chunk, &attachment)) {
      if (chunk.data() == "end") return absl::OkStatus();
      if (chunk.data() == "abort") return absl::AbortedError("aborted by the handler");
      chunk.set_data(absl::AsciiStrToUpper(chunk.data()));
      if (!stream->Write(chunk, attachment)) return absl::CancelledError("write failed");
    }
    if (context->IsCancelled()) return absl::CancelledError("cancelled");
    return absl::OkStatus();
  }

  absl::Status Nested(ServerContext* context, const Outer_Inner& request,
                      echo::SayReply* reply) override {
    reply->set_text(request.note());
    return absl::OkStatus();
  }

  absl::Status lambda(ServerContext* context, const Chunk& request, Chunk* reply) override {
    *reply = request;
    return absl::OkStatus();
  }
};

}  // namespace
}  // namespace framerpc::pytest

int main(int argc, char** argv) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  framerpc::pytest::StreamTestImpl service;
  framerpc::Server server;
  if (absl::Status s = server.AddService(&service); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  for (int i = 1; i < argc; ++i) {
    if (absl::Status s = server.AddListener(argv[i]); !s.ok()) {
      std::fprintf(stderr, "%s\n", s.ToString().c_str());
      return 1;
    }
  }
  if (absl::Status s = server.Start(); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  std::vector<std::string> addresses;
  for (int i = 1; i < argc; ++i) addresses.push_back(server.listen_address(i - 1));
  std::printf("serving %s\n", absl::StrJoin(addresses, ", ").c_str());
  std::fflush(stdout);
  int received = 0;
  sigwait(&signals, &received);
  server.Shutdown(absl::Seconds(5));
  return 0;
}

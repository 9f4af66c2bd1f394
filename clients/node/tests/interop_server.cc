// A framerpc server for the Node client's interop tests: the NodeTest service of
// clients/node/tests/test_service.proto on the real C++ server and its streaming transport
// (docs/protocol.md §11). framerpc_server hosts the echo service; this one adds every streaming
// kind, a handler that holds until cancelled, and probes through which a test watches handlers
// without sleeping.
//
//   interop_server --ready_file=PATH ADDRESS...
//
// Once it serves, it writes the bound addresses to PATH (one per line, through a rename) and to
// stdout; SIGTERM or SIGINT shuts it down gracefully.
#include <algorithm>
#include <signal.h>

#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "clients/node/tests/test_service.frpc.h"
#include "rpc/server.h"

namespace framerpc::nodetest {
namespace {

// What the handlers reporting under one key have done. Guarded by NodeTestImpl::mu_.
struct Progress {
  bool started = false;
  uint64_t write_attempts = 0;
  uint64_t writes_completed = 0;
  bool returned = false;
  bool saw_cancellation = false;
};

class NodeTestImpl final : public NodeTest::Service {
 public:
  absl::Status Hold(ServerContext* context, const HoldRequest& request,
                    HoldReply* reply) override {
    Update(request.key(), [](Progress* p) { p->started = true; });
    // Returns once the call is cancelled: by the client, or by the server at the deadline.
    const bool cancelled = context->WaitForCancellation(absl::InfiniteFuture());
    Update(request.key(), [cancelled](Progress* p) {
      p->saw_cancellation = cancelled;
      p->returned = true;
    });
    reply->set_cancelled(cancelled);
    return absl::OkStatus();
  }

  absl::Status Probe(ServerContext* context, const ProbeRequest& request,
                     ProbeReply* reply) override {
    std::unique_lock<std::mutex> lock(mu_);
    Progress& p = progress_[request.key()];
    const bool reached = cv_.wait_until(
        lock, absl::ToChronoTime(absl::Now() + absl::Seconds(30)), [&] {
          switch (request.until()) {
            case ProbeRequest::BLOCKED:
              // A write merely in progress also has attempts > completed: wait for the write
              // the test knows must block, so that the check cannot race a write with credit.
              return p.write_attempts > p.writes_completed &&
                     p.write_attempts >= std::max<uint64_t>(1, request.min_attempts());
            case ProbeRequest::RETURNED:
              return p.returned;
            default:
              return p.started;
          }
        });
    if (!reached) return absl::DeadlineExceededError("the handler did not get there in 30 s");
    reply->set_write_attempts(p.write_attempts);
    reply->set_writes_completed(p.writes_completed);
    reply->set_returned(p.returned);
    reply->set_saw_cancellation(p.saw_cancellation);
    return absl::OkStatus();
  }

  absl::Status Count(ServerContext* context, const CountRequest& request,
                     ServerWriter<Chunk>* writer) override {
    const std::string& key = request.key();
    Update(key, [](Progress* p) { p->started = true; });
    absl::Status status;
    Chunk chunk;
    for (uint64_t seq = 0; request.forever() || seq < request.count(); ++seq) {
      chunk.set_seq(seq);
      chunk.set_data(std::string(request.chunk_bytes(), static_cast<char>(seq % 251)));
      Update(key, [](Progress* p) { ++p->write_attempts; });
      if (!writer->Write(chunk, context->request_attachment())) {
        status = absl::CancelledError("the call ended under the writer");
        break;
      }
      Update(key, [](Progress* p) { ++p->writes_completed; });
    }
    if (status.ok() && request.fail_with_code() != 0) {
      status = absl::Status(static_cast<absl::StatusCode>(request.fail_with_code()),
                            "failed on purpose after the chunks");
    }
    const bool cancelled = context->IsCancelled();
    Update(key, [cancelled](Progress* p) {
      p->saw_cancellation = cancelled;
      p->returned = true;
    });
    return status;
  }

  absl::Status Sum(ServerContext* context, ServerReader<Chunk>* reader,
                   SumReply* reply) override {
    Chunk chunk;
    std::string attachment;
    while (reader->Read(&chunk, &attachment)) {
      reply->set_count(reply->count() + 1);
      reply->set_total_bytes(reply->total_bytes() + chunk.data().size());
      reply->set_attachment_bytes(reply->attachment_bytes() + attachment.size());
      reply->set_seq_sum(reply->seq_sum() + chunk.seq());
    }
    if (context->IsCancelled()) return absl::CancelledError("cancelled");
    return absl::OkStatus();
  }

  absl::Status Echo(ServerContext* context, ServerReaderWriter<Chunk, Chunk>* stream) override {
    Chunk chunk;
    std::string attachment;
    uint64_t echoed = 0;
    while (stream->Read(&chunk, &attachment)) {
      if (chunk.data() == "abort") return absl::AbortedError("aborted by the handler");
      if (!stream->Write(chunk, attachment)) return absl::CancelledError("write failed");
      ++echoed;
    }
    if (context->IsCancelled()) return absl::CancelledError("cancelled");
    Chunk last;
    last.set_seq(echoed);
    stream->Write(last);
    return absl::OkStatus();
  }

  absl::Status constructor(ServerContext* context, const echo::SayRequest& request,
                           echo::SayReply* reply) override {
    reply->set_text(request.text());
    return absl::OkStatus();
  }

 private:
  template <typename F>
  void Update(const std::string& key, F change) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      change(&progress_[key]);
    }
    cv_.notify_all();
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Progress> progress_;
};

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "interop_server: %s\n", status.ToString().c_str());
  return 1;
}

}  // namespace
}  // namespace framerpc::nodetest

int main(int argc, char** argv) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  std::string ready_file;
  std::vector<std::string> listen;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (absl::StartsWith(arg, "--ready_file=")) {
      ready_file = arg.substr(sizeof("--ready_file=") - 1);
    } else {
      listen.push_back(arg);
    }
  }
  if (listen.empty()) {
    std::fprintf(stderr, "usage: interop_server [--ready_file=PATH] ADDRESS...\n");
    return 2;
  }

  framerpc::nodetest::NodeTestImpl service;
  framerpc::Server server;
  // Hold and Probe block: they run on the worker pool, not on an I/O thread.
  if (absl::Status s = server.AddService(&service, framerpc::ServiceOptions{.run_inline = false});
      !s.ok()) {
    return framerpc::nodetest::Fail(s);
  }
  for (const std::string& address : listen) {
    if (absl::Status s = server.AddListener(address); !s.ok()) return framerpc::nodetest::Fail(s);
  }
  if (absl::Status s = server.Start(); !s.ok()) return framerpc::nodetest::Fail(s);
  std::vector<std::string> bound;
  for (size_t i = 0; i < listen.size(); ++i) bound.push_back(server.listen_address(i));
  std::printf("interop_server: serving %s\n", absl::StrJoin(bound, ", ").c_str());
  std::fflush(stdout);
  if (!ready_file.empty()) {
    const std::string tmp = ready_file + ".tmp";
    std::ofstream(tmp) << absl::StrJoin(bound, "\n") << "\n";
    std::rename(tmp.c_str(), ready_file.c_str());
  }
  int received = 0;
  sigwait(&signals, &received);
  server.Shutdown(absl::Seconds(5));
  return 0;
}

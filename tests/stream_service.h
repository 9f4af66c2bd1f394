// StreamTestService for the streaming tests, with probes through which a test can watch a
// handler's progress without sleeping.
#ifndef FRAMERPC_TESTS_STREAM_SERVICE_H_
#define FRAMERPC_TESTS_STREAM_SERVICE_H_

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/time/clock.h"
#include "base/notification.h"
#include "tests/stream_test.frpc.h"

namespace framerpc::test {

// What one handler has done so far. Thread-safe.
class Probe {
 public:
  void Update(const std::function<void(Probe*)>& change) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      change(this);
    }
    cv_.notify_all();
  }
  // Waits (up to 30 s) until `ready` holds; returns whether it did.
  bool WaitFor(const std::function<bool(const Probe&)>& ready) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_until(lock, ToChronoDeadline(absl::Now() + absl::Seconds(30)),
                          [&] { return ready(*this); });
  }
  template <typename T>
  T Get(T Probe::*field) {
    std::lock_guard<std::mutex> lock(mu_);
    return this->*field;
  }

  int64_t write_attempts = 0;
  int64_t writes_completed = 0;
  bool saw_cancellation = false;
  bool returned = false;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
};

class StreamTestServiceImpl final : public StreamTestService::Service {
 public:
  // The probe a handler with `name` reports to (created on first use).
  Probe* probe(const std::string& name) {
    std::lock_guard<std::mutex> lock(mu_);
    std::unique_ptr<Probe>& probe = probes_[name];
    if (!probe) probe = std::make_unique<Probe>();
    return probe.get();
  }

  absl::Status Count(ServerContext* context, const CountRequest& request,
                     ServerWriter<Chunk>* writer) override {
    Probe* p = probe(request.probe());
    absl::Status status;
    Chunk chunk;
    // The request's attachment, when it has one, is what each chunk carries.
    chunk.set_data(context->request_attachment().empty()
                       ? std::string(request.chunk_bytes(), 'c')
                       : std::string(context->request_attachment()));
    for (uint64_t seq = 0; request.forever() || seq < request.count(); ++seq) {
      chunk.set_seq(seq);
      p->Update([](Probe* p) { ++p->write_attempts; });
      if (!writer->Write(chunk)) {
        status = absl::CancelledError("the call ended under the writer");
        break;
      }
      p->Update([](Probe* p) { ++p->writes_completed; });
    }
    if (status.ok() && request.fail_with_code() != 0) {
      status = absl::Status(static_cast<absl::StatusCode>(request.fail_with_code()),
                            "failed on purpose after the chunks");
    }
    const bool cancelled = context->IsCancelled();
    p->Update([cancelled](Probe* p) {
      p->saw_cancellation = cancelled;
      p->returned = true;
    });
    return status;
  }

  absl::Status Sum(ServerContext* context, ServerReader<Chunk>* reader,
                   SumReply* reply) override {
    Chunk chunk;
    while (reader->Read(&chunk)) {
      reply->set_count(reply->count() + 1);
      reply->set_total_bytes(reply->total_bytes() + chunk.data().size());
      reply->set_seq_sum(reply->seq_sum() + chunk.seq());
    }
    if (context->IsCancelled()) return absl::CancelledError("cancelled");
    return absl::OkStatus();
  }

  absl::Status Echo(ServerContext* context, ServerReaderWriter<Chunk, Chunk>* stream) override {
    Chunk chunk;
    uint64_t echoed = 0;
    std::string attachment;
    while (stream->Read(&chunk, &attachment)) {
      if (!stream->Write(chunk, attachment)) return absl::CancelledError("write failed");
      ++echoed;
    }
    if (context->IsCancelled()) return absl::CancelledError("cancelled");
    Chunk last;
    last.set_seq(echoed);
    stream->Write(last);
    return absl::OkStatus();
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<Probe>> probes_;
};

}  // namespace framerpc::test

#endif  // FRAMERPC_TESTS_STREAM_SERVICE_H_

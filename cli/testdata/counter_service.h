// The test service of cli/testdata/counter.proto, for framerpc_cli's tests over both protocols.
// Double puts the caller's "x-note" metadata, if any, into the reply's note, so that tests see
// -H arrive. Stateless; thread-safe.
#ifndef FRAMERPC_CLI_TESTDATA_COUNTER_SERVICE_H_
#define FRAMERPC_CLI_TESTDATA_COUNTER_SERVICE_H_

#include <cstdint>

#include "cli/testdata/counter.frpc.h"

namespace framerpc::cli {

class CounterImpl final : public clitest::Counter::Service {
 public:
  absl::Status Double(ServerContext* context, const clitest::Number& request,
                      clitest::Number* reply) override {
    reply->set_value(request.value() * 2);
    if (const std::string* note = context->FindClientMetadata("x-note")) reply->set_note(*note);
    return absl::OkStatus();
  }
  absl::Status CountTo(ServerContext*, const clitest::Number& request,
                       ServerWriter<clitest::Number>* writer) override {
    for (int64_t i = 1; i <= request.value(); ++i) {
      clitest::Number n;
      n.set_value(i);
      if (!writer->Write(n)) break;
    }
    return absl::OkStatus();
  }
  absl::Status Sum(ServerContext*, ServerReader<clitest::Number>* reader,
                   clitest::Number* reply) override {
    clitest::Number n;
    int64_t sum = 0;
    while (reader->Read(&n)) sum += n.value();
    reply->set_value(sum);
    return absl::OkStatus();
  }
  absl::Status Negate(ServerContext*,
                      ServerReaderWriter<clitest::Number, clitest::Number>* stream) override {
    clitest::Number n;
    while (stream->Read(&n)) {
      n.set_value(-n.value());
      if (!stream->Write(n)) break;
    }
    return absl::OkStatus();
  }
};

}  // namespace framerpc::cli

#endif  // FRAMERPC_CLI_TESTDATA_COUNTER_SERVICE_H_

// How `framerpc_cli call` prints a call's replies: each as JSON (then its attachment, as the
// flags say), and with -v, grpcurl's verbose layout around them:
//
//   Response headers received:          the server's initial metadata, "key: value" sorted by key,
//   content-type: application/grpc      or "(empty)"; over the framed protocol, whose responses
//                                       carry no metadata, a line that says so
//   Response contents:                  before each reply
//   {...}
//   Response trailers received:         the trailing metadata, the same way
//   Sent 1 request and received 1 response
//
// Not thread-safe: one thread at a time (the reading thread, then the caller after it joined).
#ifndef FRAMERPC_CLI_RESPONSE_PRINTER_H_
#define FRAMERPC_CLI_RESPONSE_PRINTER_H_

#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "cli/cli_call.h"
#include "cli/cli_options.h"
#include "google/protobuf/message.h"

namespace framerpc::cli {

class ResponsePrinter {
 public:
  // `call` must outlive the printer; `out` gets the replies, `err` notes about attachments.
  ResponsePrinter(const CliOptions& options, CliCall* call, std::ostream& out, std::ostream& err)
      : options_(options), call_(call), out_(out), err_(err) {}
  ResponsePrinter(const ResponsePrinter&) = delete;
  ResponsePrinter& operator=(const ResponsePrinter&) = delete;

  // One reply. DATA_LOSS when stdout cannot be written, or the error of --attachment_out.
  absl::Status Print(const google::protobuf::Message& reply, const std::string& attachment);

  // With -v, after CliCall::Finish(): the headers if no reply printed them, then the trailers and
  // the counts. Nothing without -v.
  void Finish(int requests_sent);

 private:
  void PrintHeadersOnce();

  const CliOptions& options_;
  CliCall* const call_;
  std::ostream& out_;
  std::ostream& err_;
  bool headers_printed_ = false;
  int replies_ = 0;
};

}  // namespace framerpc::cli

#endif  // FRAMERPC_CLI_RESPONSE_PRINTER_H_

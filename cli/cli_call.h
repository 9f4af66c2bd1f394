// One call of framerpc_cli's, of any method kind, over either protocol: the framed protocol
// (cli/framed_call.h) or gRPC (cli/grpc_call.h). The commands (call, and reflection for list and
// describe) drive every kind the same way:
//
//   Write(request) ... WritesDone();      one request unless the method is client streaming
//   while (Read(&reply)) ...;             every reply, one for unary and client streaming
//   Finish();                             the call's status
//
// Read() may run on another thread than Write() and WritesDone() (server and bidi streaming),
// each of them on one thread at a time; Cancel() is safe from any thread. Finish() only after
// Read() has returned false. The messages are the caller's; the call keeps no pointer to them
// after each method returns.
#ifndef FRAMERPC_CLI_CLI_CALL_H_
#define FRAMERPC_CLI_CLI_CALL_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "rpc/context.h"

namespace framerpc::cli {

class CliCall {
 public:
  virtual ~CliCall() = default;

  // Sends a request with its raw attachment (framed protocol only: gRPC has none, so the
  // commands refuse --attachment_file with --grpc). False once the call has ended.
  virtual bool Write(const google::protobuf::Message& request, absl::string_view attachment) = 0;
  // No more requests.
  virtual void WritesDone() = 0;
  // The next reply and its attachment; false when there is none (Finish() says why).
  virtual bool Read(google::protobuf::Message* reply, std::string* attachment) = 0;
  virtual absl::Status Finish() = 0;
  // Ends the call with CANCELLED, as far as it has not ended.
  virtual void Cancel() = 0;
  // For -v: whether the protocol's responses carry metadata at all (the framed protocol's do not;
  // docs/cli.md). If they do, ResponseHeaders() waits until the server's headers have arrived or
  // the call has ended (then empty), and ResponseTrailers() is for after Finish().
  virtual bool carries_response_metadata() const = 0;
  virtual Metadata ResponseHeaders() = 0;
  virtual Metadata ResponseTrailers() = 0;
};

}  // namespace framerpc::cli

#endif  // FRAMERPC_CLI_CLI_CALL_H_

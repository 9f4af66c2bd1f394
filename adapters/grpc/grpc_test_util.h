// Blocking gRPC client helpers for the adapter's tests, over gRPC's generic stub (a real gRPC
// client with no generated gRPC code): one unary call, and a stream whose operations each wait
// for their own completion.
#ifndef FRAMERPC_ADAPTERS_GRPC_GRPC_TEST_UTIL_H_
#define FRAMERPC_ADAPTERS_GRPC_GRPC_TEST_UTIL_H_

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "google/protobuf/message_lite.h"
#include "gtest/gtest.h"

namespace framerpc::grpc_test {

inline std::string ToString(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  EXPECT_TRUE(buffer.Dump(&slices).ok());
  for (const grpc::Slice& slice : slices) {
    out.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return out;
}

inline grpc::ByteBuffer ToBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

// One unary call; blocks until it completes. `response` is set when the status is OK.
inline grpc::Status UnaryCall(grpc::GenericStub* stub, grpc::ClientContext* context,
                              const std::string& method, const std::string& request,
                              std::string* response) {
  grpc::CompletionQueue cq;
  grpc::ByteBuffer request_buffer = ToBuffer(request);
  grpc::ByteBuffer response_buffer;
  grpc::Status status;
  auto rpc = stub->PrepareUnaryCall(context, method, request_buffer, &cq);
  rpc->StartCall();
  int tag = 0;
  rpc->Finish(&response_buffer, &status, &tag);
  void* got = nullptr;
  bool ok = false;
  EXPECT_TRUE(cq.Next(&got, &ok));
  EXPECT_EQ(got, &tag);
  cq.Shutdown();
  while (cq.Next(&got, &ok)) {
  }
  if (status.ok()) *response = ToString(response_buffer);
  return status;
}

// A streaming call of any kind. Used by one thread; one operation at a time.
class BlockingStream {
 public:
  BlockingStream(grpc::GenericStub* stub, grpc::ClientContext* context, const std::string& method)
      : call_(stub->PrepareCall(context, method, &cq_)) {
    call_->StartCall(&tag_);
    started_ = Await();
  }
  ~BlockingStream() {
    cq_.Shutdown();
    void* got;
    bool ok;
    while (cq_.Next(&got, &ok)) {
    }
  }

  bool started() const { return started_; }
  bool Write(const google::protobuf::MessageLite& message) {
    return WriteRaw(message.SerializeAsString());
  }
  bool WriteRaw(const std::string& bytes) {
    call_->Write(ToBuffer(bytes), &tag_);
    return Await();
  }
  bool WritesDone() {
    call_->WritesDone(&tag_);
    return Await();
  }
  bool Read(google::protobuf::MessageLite* message) {
    grpc::ByteBuffer buffer;
    call_->Read(&buffer, &tag_);
    if (!Await()) return false;
    return message->ParseFromString(ToString(buffer));
  }
  // Call once every message has been read (Read() returned false) or the call was cancelled.
  grpc::Status Finish() {
    grpc::Status status;
    call_->Finish(&status, &tag_);
    EXPECT_TRUE(Await());
    return status;
  }

 private:
  bool Await() {
    void* got = nullptr;
    bool ok = false;
    EXPECT_TRUE(cq_.Next(&got, &ok));
    EXPECT_EQ(got, &tag_);
    return ok;
  }

  grpc::CompletionQueue cq_;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call_;
  int tag_ = 0;
  bool started_ = false;
};

// Runs `command` through the shell; returns its exit status and sets its standard output.
inline int RunCommand(const std::string& command, std::string* output) {
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return -1;
  char buffer[512];
  while (size_t n = ::fread(buffer, 1, sizeof(buffer), pipe)) output->append(buffer, n);
  return ::pclose(pipe);
}

// Runs adapters/grpc/grpc_clients.py (Python's grpcio, stubs from protoc and Debian's
// grpc_python_plugin) against `address` and expects every check to pass. Without
// /usr/bin/python3 and grpcio (python3-grpcio, from install-deps.sh) it fails and says so: a
// machine that lacks them must not pass by skipping.
inline void ExpectPythonGrpcClientsPass(const std::string& address) {
  std::string output;
  ASSERT_EQ(RunCommand("/usr/bin/python3 -c 'import grpc' 2>&1", &output), 0)
      << "/usr/bin/python3 cannot import grpc: run scripts/install-deps.sh (python3-grpcio): "
      << output;
  output.clear();
  const int rc = RunCommand(
      "PYTHONPATH=adapters/grpc/py /usr/bin/python3 adapters/grpc/grpc_clients.py " + address +
          " 2>&1",
      &output);
  EXPECT_EQ(rc, 0) << output;
  EXPECT_NE(output.find("all python grpc checks passed"), std::string::npos) << output;
}

}  // namespace framerpc::grpc_test


#endif  // FRAMERPC_ADAPTERS_GRPC_GRPC_TEST_UTIL_H_

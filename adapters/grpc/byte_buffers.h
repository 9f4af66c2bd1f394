// Conversions between gRPC's ByteBuffer and contiguous bytes. Internal to the adapter.
#ifndef FRAMERPC_ADAPTERS_GRPC_BYTE_BUFFERS_H_
#define FRAMERPC_ADAPTERS_GRPC_BYTE_BUFFERS_H_

#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/slice.h>

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace framerpc::grpc_adapter {

// The buffer's bytes, joined. Empty if the buffer cannot be read.
inline std::string ToString(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  out.reserve(buffer.Length());
  for (const grpc::Slice& slice : slices) {
    out.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return out;
}

// Takes over `bytes` without a copy: the slice owns the string until gRPC releases it.
inline grpc::ByteBuffer ToByteBuffer(std::string bytes) {
  if (bytes.empty()) {
    grpc::Slice empty;
    return grpc::ByteBuffer(&empty, 1);
  }
  auto* owned = new std::string(std::move(bytes));
  grpc::Slice slice(
      owned->data(), owned->size(), [](void* p) { delete static_cast<std::string*>(p); }, owned);
  return grpc::ByteBuffer(&slice, 1);
}

}  // namespace framerpc::grpc_adapter

#endif  // FRAMERPC_ADAPTERS_GRPC_BYTE_BUFFERS_H_

// framerpc's version, and what a binary was built with, for `--version` and status pages.
#ifndef FRAMERPC_BASE_VERSION_H_
#define FRAMERPC_BASE_VERSION_H_

#include <string>

namespace framerpc {

// Semantic version of the framework, its protocol and its tools (the clients' packages carry
// the same number).
inline constexpr char kVersion[] = "0.1.0";

// One line: the compiler, the build mode (optimized or not, sanitizers) and the versions of the
// libraries built against, e.g. "built with GCC 12.2.0, C++17, optimized; protobuf 3.21.12,
// gRPC 1.51.1, abseil 20220623, spdlog 1.10.0, fmt 9.1.0".
std::string BuildInfo();

}  // namespace framerpc

#endif  // FRAMERPC_BASE_VERSION_H_

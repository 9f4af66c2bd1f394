#include "base/version.h"

#include <grpcpp/version_info.h>

#include "absl/base/config.h"
#include "absl/strings/str_cat.h"
#include "fmt/core.h"
#include "google/protobuf/stubs/common.h"
#include "spdlog/version.h"

namespace framerpc {
namespace {

std::string Compiler() {
#if defined(__clang__)
  return absl::StrCat("clang ", __clang_major__, ".", __clang_minor__, ".", __clang_patchlevel__);
#elif defined(__GNUC__)
  return absl::StrCat("GCC ", __GNUC__, ".", __GNUC_MINOR__, ".", __GNUC_PATCHLEVEL__);
#else
  return "an unknown compiler";
#endif
}

std::string Mode() {
  std::string mode;
#if defined(__OPTIMIZE__)
  mode = "optimized";
#else
  mode = "unoptimized";
#endif
#if defined(__SANITIZE_ADDRESS__)
  absl::StrAppend(&mode, ", AddressSanitizer");
#endif
#if defined(__SANITIZE_THREAD__)
  absl::StrAppend(&mode, ", ThreadSanitizer");
#endif
#if !defined(NDEBUG)
  absl::StrAppend(&mode, ", assertions on");
#endif
  return mode;
}

std::string Dotted(int version) {  // 3021012 -> 3.21.12
  return absl::StrCat(version / 1000000, ".", version / 1000 % 1000, ".", version % 1000);
}

}  // namespace

std::string BuildInfo() {
  return absl::StrCat("built with ", Compiler(), ", C++", __cplusplus / 100 % 100, ", ", Mode(),
                      "; protobuf ", Dotted(GOOGLE_PROTOBUF_VERSION), ", gRPC ",
                      GRPC_CPP_VERSION_STRING, ", abseil ", ABSL_LTS_RELEASE_VERSION, ", spdlog ",
                      SPDLOG_VER_MAJOR, ".", SPDLOG_VER_MINOR, ".", SPDLOG_VER_PATCH, ", fmt ",
                      FMT_VERSION / 10000, ".", FMT_VERSION / 100 % 100, ".", FMT_VERSION % 100);
}

}  // namespace framerpc

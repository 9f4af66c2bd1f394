#include "rpc/trace_context.h"

#include <cstdint>
#include <cstring>
#include <random>

#include "absl/strings/match.h"

namespace framerpc {
namespace {

constexpr char kHex[] = "0123456789abcdef";

bool IsLowerHex(absl::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool AllZeros(absl::string_view s) { return s.find_first_not_of('0') == absl::string_view::npos; }

// Random ids from a per-thread generator seeded once from the kernel: unique enough for traces
// (not secrets), and no system call per call.
uint64_t RandomNonZero() {
  thread_local std::mt19937_64 generator{[] {
    std::random_device device;
    return (uint64_t{device()} << 32) ^ device();
  }()};
  uint64_t value;
  do {
    value = generator();
  } while (value == 0);
  return value;
}

void WriteHex(uint64_t value, char* out) {
  for (int i = 15; i >= 0; --i) {
    out[i] = kHex[value & 0xf];
    value >>= 4;
  }
}

}  // namespace

std::optional<TraceContext> TraceContext::Parse(absl::string_view text) {
  if (text.size() < kHeaderLength) return std::nullopt;
  const absl::string_view version = text.substr(0, 2);
  if (!IsLowerHex(version) || version == "ff") return std::nullopt;
  if (version == "00" ? text.size() != kHeaderLength
                      : text.size() > kHeaderLength && text[kHeaderLength] != '-') {
    return std::nullopt;
  }
  if (text[2] != '-' || text[35] != '-' || text[52] != '-') return std::nullopt;
  const absl::string_view trace_id = text.substr(3, 32);
  const absl::string_view parent_id = text.substr(36, 16);
  const absl::string_view flags = text.substr(53, 2);
  if (!IsLowerHex(trace_id) || !IsLowerHex(parent_id) || !IsLowerHex(flags) ||
      AllZeros(trace_id) || AllZeros(parent_id)) {
    return std::nullopt;
  }
  TraceContext parsed;
  std::memcpy(parsed.header_, "00-", 3);  // later versions are passed on as the one we speak
  std::memcpy(parsed.header_ + 3, text.data() + 3, kHeaderLength - 3);
  parsed.valid_ = true;
  return parsed;
}

TraceContext TraceContext::NewRoot() {
  TraceContext root;
  std::memcpy(root.header_, "00-", 3);
  WriteHex(RandomNonZero(), root.header_ + 3);
  WriteHex(RandomNonZero(), root.header_ + 19);
  root.header_[35] = '-';
  WriteHex(RandomNonZero(), root.header_ + 36);
  std::memcpy(root.header_ + 52, "-01", 3);
  root.valid_ = true;
  return root;
}

TraceContext TraceContext::NewChild() const {
  if (!valid_) return NewRoot();
  TraceContext child = *this;
  std::memcpy(child.parent_, header_ + 36, 16);
  child.has_parent_ = true;
  WriteHex(RandomNonZero(), child.header_ + 36);
  return child;
}

TraceContext TraceContext::ForServerCall(
    const std::vector<std::pair<std::string, std::string>>& metadata) {
  const std::string* header = nullptr;
  for (const auto& [key, value] : metadata) {
    if (!absl::EqualsIgnoreCase(key, kMetadataKey)) continue;
    if (header != nullptr) return NewRoot();  // more than one: which to believe?
    header = &value;
  }
  if (header == nullptr) return NewRoot();
  std::optional<TraceContext> parent = Parse(*header);
  return parent.has_value() ? parent->NewChild() : NewRoot();
}

}  // namespace framerpc

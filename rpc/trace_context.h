// TraceContext: a call's place in a distributed trace, as W3C Trace Context's `traceparent`
// carries it (https://www.w3.org/TR/trace-context/, docs/tracing.md):
//
//   traceparent: 00-<trace id: 32 hex>-<parent id: 16 hex>-<flags: 2 hex>
//
// A server call takes the trace id and flags of a valid `traceparent` in its metadata, or starts
// a new trace when there is none or it is malformed (never trusting part of one); it then has a
// span id of its own, whose parent is the caller's (the header's parent id). A call a handler
// makes on behalf of its call is a child: the same trace id and flags, a new span id, and the
// server call's span as its parent.
//
// A value type of fixed size (no allocation); thread safety as for any value.
#ifndef FRAMERPC_RPC_TRACE_CONTEXT_H_
#define FRAMERPC_RPC_TRACE_CONTEXT_H_

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace framerpc {

class TraceContext {
 public:
  static constexpr absl::string_view kMetadataKey = "traceparent";
  static constexpr size_t kHeaderLength = 55;  // version 00

  // Empty: no trace (every accessor returns an empty string).
  TraceContext() = default;

  // A header value, validated strictly: a version of two lowercase hex digits other than "ff";
  // for version 00 exactly 55 characters, for a later version at least 55 and a '-' after them;
  // a trace id of 32 and a parent id of 16 lowercase hex digits, neither all zeros; two hex
  // digits of flags. nullopt for anything else. The result's span id is the header's parent id.
  static std::optional<TraceContext> Parse(absl::string_view traceparent);
  // A new trace: random trace and span ids, sampled flag set, no parent.
  static TraceContext NewRoot();
  // The context of a call being served, from its metadata: a child of the one valid
  // `traceparent` (the key compared without case), or a new root when there is none, more than
  // one, or a malformed one.
  static TraceContext ForServerCall(
      const std::vector<std::pair<std::string, std::string>>& metadata);

  // The same trace and flags, a new random span id, and this span as its parent. From an empty
  // context: a new root.
  TraceContext NewChild() const;

  bool empty() const { return !valid_; }
  // Lowercase hex; empty strings when empty().
  absl::string_view trace_id() const { return Part(3, 32); }
  absl::string_view span_id() const { return Part(36, 16); }
  absl::string_view flags() const { return Part(53, 2); }
  absl::string_view parent_span_id() const {
    return has_parent_ ? absl::string_view(parent_, 16) : absl::string_view();
  }
  // "00-<trace id>-<span id>-<flags>": the value that makes this span the parent of a callee.
  absl::string_view traceparent() const { return Part(0, kHeaderLength); }

 private:
  absl::string_view Part(size_t offset, size_t length) const {
    return valid_ ? absl::string_view(header_ + offset, length) : absl::string_view();
  }

  char header_[kHeaderLength] = {};
  char parent_[16] = {};
  bool valid_ = false;
  bool has_parent_ = false;
};

}  // namespace framerpc

#endif  // FRAMERPC_RPC_TRACE_CONTEXT_H_

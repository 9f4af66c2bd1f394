// How a log record becomes one line, in either format:
//
//   text: 2024-05-01T12:34:56.123456Z warn refusal: connection refused kind=garbage peer=...
//   json: {"ts":"2024-05-01T12:34:56.123456Z","level":"warn","logger":"refusal",
//          "msg":"connection refused","kind":"garbage","peer":"..."}      (on one line)
//
// The record's own part (component, message, fields) is rendered by RenderBody when it is
// logged; LineFormatter, spdlog's formatter for our lines, adds the time stamp (UTC, RFC 3339,
// microseconds) and the level around it. Every string is escaped (logging/json_string.h), so a
// record is one line whatever a peer put in it.
//
// Thread safety: RenderBody is pure; a LineFormatter is used under its sink's lock, as spdlog
// does with every formatter.
#ifndef FRAMERPC_LOGGING_LINE_FORMAT_H_
#define FRAMERPC_LOGGING_LINE_FORMAT_H_

#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "logging/field.h"
#include "logging/level.h"
#include "spdlog/formatter.h"

namespace framerpc::logging {

// text: `component: message k=v ...`; json: `"logger":"component","msg":"message","k":"v"`.
std::string RenderBody(Format format, absl::string_view component, absl::string_view message,
                       absl::Span<const Field> fields);

class LineFormatter final : public spdlog::formatter {
 public:
  explicit LineFormatter(Format format) : format_(format) {}

  // `msg.payload` is a body that RenderBody made in the same format.
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<LineFormatter>(format_);
  }

 private:
  const Format format_;
};

}  // namespace framerpc::logging

#endif  // FRAMERPC_LOGGING_LINE_FORMAT_H_

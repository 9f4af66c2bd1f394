// The process's log: one logging layer for the whole server, on spdlog, with levels and two line
// formats (logging/line_format.h: text, or one JSON object per line).
//
//   logging::Configure({.level = Level::kDebug, .format = Format::kJson});  // once, in main
//   logging::Info("server", "listening on {}", address);
//   logging::Log(Level::kWarn, "refusal", "connection refused",
//                {{"kind", "garbage"}, {"peer", peer}, {"reason", reason}});
//
// Until Configure() is called, records of level info and above go to standard error as text.
// Nothing here writes to standard output, which belongs to the server's start-up report.
//
// A record is a component (which part of the program speaks: "server", "access", "refusal"),
// a message and structured fields. Never log a payload, a token or a key: fields are written
// as they are given.
//
// Thread safety: everything is thread-safe. A record below the level costs one atomic load
// (Enabled()); the formatting helpers check it before formatting anything.
#ifndef FRAMERPC_LOGGING_LOG_H_
#define FRAMERPC_LOGGING_LOG_H_

#include <atomic>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "fmt/format.h"
#include "logging/field.h"
#include "logging/level.h"
#include "spdlog/sinks/sink.h"

namespace framerpc::logging {

struct LogOptions {
  Level level = Level::kInfo;
  Format format = Format::kText;
};

// Replaces the process's log configuration. Lines go to `sink` (null: standard error, flushed
// after every line). Records logged while this runs go to the old or the new configuration.
void Configure(const LogOptions& options, std::shared_ptr<spdlog::sinks::sink> sink = nullptr);
// The level and format in force.
LogOptions CurrentOptions();

namespace internal {
extern std::atomic<int> min_level;
}  // namespace internal

// Whether a record of `level` would be written.
inline bool Enabled(Level level) {
  return static_cast<int>(level) >= internal::min_level.load(std::memory_order_relaxed);
}

// Writes one record if its level is enabled.
void Log(Level level, absl::string_view component, absl::string_view message,
         absl::Span<const Field> fields = {});

// fmt-style message formatting, done only when the level is enabled.
template <typename... Args>
void Logf(Level level, absl::string_view component, fmt::format_string<Args...> format,
          Args&&... args) {
  if (!Enabled(level)) return;
  Log(level, component, fmt::format(format, std::forward<Args>(args)...));
}
template <typename... Args>
void Debug(absl::string_view component, fmt::format_string<Args...> format, Args&&... args) {
  Logf(Level::kDebug, component, format, std::forward<Args>(args)...);
}
template <typename... Args>
void Info(absl::string_view component, fmt::format_string<Args...> format, Args&&... args) {
  Logf(Level::kInfo, component, format, std::forward<Args>(args)...);
}
template <typename... Args>
void Warn(absl::string_view component, fmt::format_string<Args...> format, Args&&... args) {
  Logf(Level::kWarn, component, format, std::forward<Args>(args)...);
}
template <typename... Args>
void Error(absl::string_view component, fmt::format_string<Args...> format, Args&&... args) {
  Logf(Level::kError, component, format, std::forward<Args>(args)...);
}

}  // namespace framerpc::logging

#endif  // FRAMERPC_LOGGING_LOG_H_

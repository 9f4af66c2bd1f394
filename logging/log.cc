#include "logging/log.h"

#include <atomic>

#include "logging/line_format.h"
#include "spdlog/logger.h"
#include "spdlog/sinks/stdout_sinks.h"

namespace framerpc::logging {

namespace internal {
std::atomic<int> min_level{static_cast<int>(Level::kInfo)};
}  // namespace internal

namespace {

struct State {
  Format format;
  std::shared_ptr<spdlog::logger> logger;
};

std::shared_ptr<const State> MakeState(Format format, std::shared_ptr<spdlog::sinks::sink> sink) {
  if (sink == nullptr) sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>("framerpc", std::move(sink));
  logger->set_formatter(std::make_unique<LineFormatter>(format));
  logger->set_level(spdlog::level::trace);  // filtered by internal::min_level before it
  logger->flush_on(spdlog::level::trace);
  return std::make_shared<const State>(State{format, std::move(logger)});
}

// Read and replaced with std::atomic_load / std::atomic_store; null until Configure().
std::shared_ptr<const State> configured;

std::shared_ptr<const State> CurrentState() {
  std::shared_ptr<const State> state = std::atomic_load(&configured);
  if (state != nullptr) return state;
  // Never destroyed: threads may still log while the process exits.
  static const auto* const kDefault =
      new std::shared_ptr<const State>(MakeState(Format::kText, nullptr));
  return *kDefault;
}

spdlog::level::level_enum ToSpdlog(Level level) {
  switch (level) {
    case Level::kDebug:
      return spdlog::level::debug;
    case Level::kInfo:
      return spdlog::level::info;
    case Level::kWarn:
      return spdlog::level::warn;
    case Level::kError:
      return spdlog::level::err;
  }
  return spdlog::level::err;
}

}  // namespace

void Configure(const LogOptions& options, std::shared_ptr<spdlog::sinks::sink> sink) {
  std::atomic_store(&configured, MakeState(options.format, std::move(sink)));
  internal::min_level.store(static_cast<int>(options.level), std::memory_order_relaxed);
}

LogOptions CurrentOptions() {
  return LogOptions{static_cast<Level>(internal::min_level.load(std::memory_order_relaxed)),
                    CurrentState()->format};
}

void Log(Level level, absl::string_view component, absl::string_view message,
         absl::Span<const Field> fields) {
  if (!Enabled(level)) return;
  const std::shared_ptr<const State> state = CurrentState();
  const std::string body = RenderBody(state->format, component, message, fields);
  state->logger->log(ToSpdlog(level), spdlog::string_view_t(body.data(), body.size()));
}

}  // namespace framerpc::logging

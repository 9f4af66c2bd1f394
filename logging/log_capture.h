// For tests that read what was logged: CaptureSink, an spdlog sink that keeps every line, and
// LogCapture, which points the process's log at one for its lifetime.
//
//   LogCapture capture({.level = Level::kInfo, .format = Format::kJson});
//   ... code that logs ...
//   for (const std::string& line : capture.Lines()) ...
//
// Thread safety: lines may be written from any thread; Lines() returns a copy taken under the
// sink's lock. One LogCapture at a time: it restores the default configuration (info, text,
// standard error) when it goes.
#ifndef FRAMERPC_LOGGING_LOG_CAPTURE_H_
#define FRAMERPC_LOGGING_LOG_CAPTURE_H_

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "logging/log.h"
#include "spdlog/sinks/base_sink.h"

namespace framerpc::logging {

class CaptureSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  // Each line without its trailing newline.
  std::vector<std::string> Lines() {
    std::lock_guard<std::mutex> lock(mutex_);
    return lines_;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    std::string line(formatted.data(), formatted.size());
    if (!line.empty() && line.back() == '\n') line.pop_back();
    lines_.push_back(std::move(line));
  }
  void flush_() override {}

 private:
  std::vector<std::string> lines_;  // guarded by mutex_
};

class LogCapture {
 public:
  explicit LogCapture(const LogOptions& options) : sink_(std::make_shared<CaptureSink>()) {
    Configure(options, sink_);
  }
  ~LogCapture() { Configure(LogOptions{}); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  std::vector<std::string> Lines() { return sink_->Lines(); }

 private:
  std::shared_ptr<CaptureSink> sink_;
};

}  // namespace framerpc::logging

#endif  // FRAMERPC_LOGGING_LOG_CAPTURE_H_

// ProgressBar: one line on a terminal showing a transfer's bytes, percentage, rate and time left,
// redrawn in place ('\r') at most every `interval`, and ended with a newline by Finish().
// framerpc_cli shows it for download and upload when stderr is a terminal, and stays quiet
// otherwise.
//
// Not thread-safe: feed it from the thread doing the transfer.
#ifndef FRAMERPC_CLI_PROGRESS_BAR_H_
#define FRAMERPC_CLI_PROGRESS_BAR_H_

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace framerpc::cli {

class ProgressBar {
 public:
  using Clock = std::function<absl::Time()>;

  // Writes to `out`, which must outlive the bar. `label` starts the line (e.g. the file's name).
  ProgressBar(std::ostream* out, std::string label, Clock clock = absl::Now,
              absl::Duration interval = absl::Milliseconds(100));
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // `done` of `total` bytes. The rate counts from the first update, so a resumed transfer's
  // rate is that of this run.
  void Update(uint64_t done, uint64_t total);
  // Draws the last state and ends the line; a no-op if nothing was ever drawn.
  void Finish();

  // The line for `done` of `total` bytes after `elapsed` since `first_done`, without '\r'.
  static std::string FormatLine(const std::string& label, uint64_t done, uint64_t total,
                                uint64_t first_done, absl::Duration elapsed);

 private:
  void Draw();

  std::ostream* const out_;
  const std::string label_;
  const Clock clock_;
  const absl::Duration interval_;
  bool started_ = false;
  absl::Time start_;
  absl::Time last_draw_ = absl::InfinitePast();
  uint64_t first_done_ = 0;
  uint64_t done_ = 0;
  uint64_t total_ = 0;
  size_t drawn_width_ = 0;  // to blank out the rest of a longer previous line
};

// 1536 -> "1.5 KiB"; below 1 KiB, "N B".
std::string HumanBytes(uint64_t bytes);
// "0:07", "12:05", "1:02:03".
std::string HumanDuration(absl::Duration duration);

}  // namespace framerpc::cli

#endif  // FRAMERPC_CLI_PROGRESS_BAR_H_

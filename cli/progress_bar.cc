#include "cli/progress_bar.h"

#include <cmath>
#include <ostream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace framerpc::cli {

ProgressBar::ProgressBar(std::ostream* out, std::string label, Clock clock,
                         absl::Duration interval)
    : out_(out), label_(std::move(label)), clock_(std::move(clock)), interval_(interval) {}

void ProgressBar::Update(uint64_t done, uint64_t total) {
  const absl::Time now = clock_();
  if (!started_) {
    started_ = true;
    start_ = now;
    first_done_ = done;
  }
  done_ = done;
  total_ = total;
  if (now - last_draw_ < interval_) return;
  last_draw_ = now;
  Draw();
}

void ProgressBar::Finish() {
  if (!started_) return;
  Draw();
  *out_ << "\n" << std::flush;
}

void ProgressBar::Draw() {
  std::string line = FormatLine(label_, done_, total_, first_done_, clock_() - start_);
  const size_t width = line.size();
  if (width < drawn_width_) line.append(drawn_width_ - width, ' ');
  drawn_width_ = width;
  *out_ << "\r" << line << std::flush;
}

std::string ProgressBar::FormatLine(const std::string& label, uint64_t done, uint64_t total,
                                    uint64_t first_done, absl::Duration elapsed) {
  std::string line = absl::StrCat(label, "  ", HumanBytes(done), " / ", HumanBytes(total));
  const int percent = total == 0 ? 100 : static_cast<int>(done * 100.0 / total);
  absl::StrAppend(&line, "  ", percent, "%");
  const double seconds = absl::ToDoubleSeconds(elapsed);
  const uint64_t moved = done >= first_done ? done - first_done : 0;
  if (seconds <= 0 || moved == 0) {
    absl::StrAppend(&line, "  -- B/s  ETA --:--");
    return line;
  }
  const double rate = moved / seconds;
  absl::StrAppend(&line, "  ", HumanBytes(static_cast<uint64_t>(rate)), "/s");
  const uint64_t left = total > done ? total - done : 0;
  absl::StrAppend(&line, "  ETA ", HumanDuration(absl::Seconds(std::ceil(left / rate))));
  return line;
}

std::string HumanBytes(uint64_t bytes) {
  if (bytes < 1024) return absl::StrCat(bytes, " B");
  static const char* const kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double value = bytes / 1024.0;
  int unit = 0;
  while (value >= 1024 && unit + 1 < 6) {
    value /= 1024;
    ++unit;
  }
  return absl::StrFormat("%.1f %s", value, kUnits[unit]);
}

std::string HumanDuration(absl::Duration duration) {
  const int64_t total = absl::ToInt64Seconds(duration);
  const int64_t hours = total / 3600;
  const int64_t minutes = total / 60 % 60;
  const int64_t seconds = total % 60;
  if (hours > 0) return absl::StrFormat("%d:%02d:%02d", hours, minutes, seconds);
  return absl::StrFormat("%d:%02d", minutes, seconds);
}

}  // namespace framerpc::cli

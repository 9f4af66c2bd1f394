#include "cli/progress_bar.h"

#include <algorithm>
#include <sstream>

#include "gtest/gtest.h"

namespace framerpc::cli {
namespace {

TEST(ProgressBarTest, HumanUnits) {
  EXPECT_EQ(HumanBytes(0), "0 B");
  EXPECT_EQ(HumanBytes(1023), "1023 B");
  EXPECT_EQ(HumanBytes(1536), "1.5 KiB");
  EXPECT_EQ(HumanBytes(uint64_t{5} << 30), "5.0 GiB");
  EXPECT_EQ(HumanDuration(absl::Seconds(7)), "0:07");
  EXPECT_EQ(HumanDuration(absl::Seconds(725)), "12:05");
  EXPECT_EQ(HumanDuration(absl::Seconds(3723)), "1:02:03");
}

TEST(ProgressBarTest, LineShowsBytesPercentRateAndEta) {
  // 256 MiB of 1 GiB after 2 s, counting from 0: 128 MiB/s, 768 MiB left -> 6 s.
  EXPECT_EQ(ProgressBar::FormatLine("big.iso", 256 << 20, 1 << 30, 0, absl::Seconds(2)),
            "big.iso  256.0 MiB / 1.0 GiB  25%  128.0 MiB/s  ETA 0:06");
  // Resumed at 512 MiB: the rate is this run's.
  EXPECT_EQ(ProgressBar::FormatLine("f", 768 << 20, 1 << 30, 512 << 20, absl::Seconds(1)),
            "f  768.0 MiB / 1.0 GiB  75%  256.0 MiB/s  ETA 0:01");
  EXPECT_EQ(ProgressBar::FormatLine("f", 0, 100, 0, absl::ZeroDuration()),
            "f  0 B / 100 B  0%  -- B/s  ETA --:--");
  EXPECT_EQ(ProgressBar::FormatLine("empty", 0, 0, 0, absl::Seconds(1)),
            "empty  0 B / 0 B  100%  -- B/s  ETA --:--");
}

TEST(ProgressBarTest, RedrawsInPlaceAtMostEveryIntervalAndEndsTheLine) {
  absl::Time now = absl::UnixEpoch();
  std::ostringstream out;
  {
    ProgressBar bar(&out, "f", [&] { return now; }, absl::Milliseconds(100));
    bar.Update(0, 1000);                 // drawn (first)
    now += absl::Milliseconds(50);
    bar.Update(100, 1000);               // too soon: not drawn
    now += absl::Milliseconds(60);
    bar.Update(500, 1000);               // drawn
    now += absl::Milliseconds(10);
    bar.Update(1000, 1000);              // not drawn, but Finish draws it
    bar.Finish();
  }
  const std::string text = out.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\r'), 3);
  EXPECT_EQ(text.back(), '\n');
  EXPECT_NE(text.find("\rf  0 B / 1000 B  0%"), std::string::npos);
  EXPECT_NE(text.find("\rf  500 B / 1000 B  50%"), std::string::npos);
  EXPECT_NE(text.find("\rf  1000 B / 1000 B  100%"), std::string::npos);
  EXPECT_EQ(text.find("f  100 B / 1000 B"), std::string::npos);

  std::ostringstream quiet;
  ProgressBar unused(&quiet, "f");
  unused.Finish();
  EXPECT_EQ(quiet.str(), "");
}

}  // namespace
}  // namespace framerpc::cli

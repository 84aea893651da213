#include "nutshell/run/progress.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <thread>
#include <unistd.h>
#include <vector>

namespace nutshell {
namespace {

TEST(Progress, FormatShowsFractionRateDivergencesAndEta) {
  const std::string s = ProgressBar::format("sampling", 500, 2000, 3, 2.0);
  EXPECT_NE(s.find("sampling ["), std::string::npos) << s;
  EXPECT_NE(s.find(" 25% 500/2000"), std::string::npos) << s;
  EXPECT_NE(s.find("250 draws/s"), std::string::npos) << s;
  EXPECT_NE(s.find("3 divergences"), std::string::npos) << s;
  EXPECT_NE(s.find("eta 6s"), std::string::npos) << s;
  EXPECT_NE(ProgressBar::format("", 1, 1, 1, 1.0).find("1 divergence"), std::string::npos);
  EXPECT_EQ(ProgressBar::format("", 1, 1, 1, 1.0).find("eta"), std::string::npos);
}

TEST(Progress, RedrawsAreRateLimited) {
  std::ostringstream out;
  {
    ProgressBar bar(1000, out, ProgressOptions{.min_interval_seconds = 3600.0});
    for (int i = 0; i < 1000; ++i) bar.advance();
  }  // the destructor draws the final state
  const std::string s = out.str();
  // The first advance draws (the deadline starts at 0), then nothing for an
  // hour, then the final redraw.
  EXPECT_EQ(std::count(s.begin(), s.end(), '\r'), 2) << s;
  EXPECT_NE(s.find("100% 1000/1000"), std::string::npos) << s;
  EXPECT_EQ(s.back(), '\n');
}

TEST(Progress, DisabledPrintsNothing) {
  std::ostringstream out;
  {
    ProgressBar bar(10, out, ProgressOptions{.enabled = false});
    EXPECT_FALSE(bar.active());
    bar.advance(10, 2);
    EXPECT_EQ(bar.completed(), 10u);
  }
  EXPECT_TRUE(out.str().empty());
  // On stderr the bar is off when stderr is not a terminal, as under bazel test.
  ProgressBar on_stderr(10);
  if (!::isatty(2)) {
    EXPECT_FALSE(on_stderr.active());
  }
}

TEST(Progress, CountsFromManyThreads) {
  std::ostringstream out;
  ProgressBar bar(40000, out, ProgressOptions{.min_interval_seconds = 0.0});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) bar.advance(1, i % 100 == 0 ? 1 : 0);
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(bar.completed(), 40000u);
  EXPECT_EQ(bar.divergences(), 400u);
  bar.finish();
  bar.finish();  // idempotent
  const std::string s = out.str();
  EXPECT_EQ(std::count(s.begin(), s.end(), '\n'), 1);
}

}  // namespace
}  // namespace nutshell

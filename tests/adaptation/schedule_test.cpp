// Stan's windowed schedule: exact boundaries, the short-warmup branch (which
// must adapt, unlike Stan 2.35), and agreement with a line-by-line
// transcription of Stan's state machine for every warmup length.
#include "nutshell/adaptation/schedule.hpp"

#include <climits>
#include <vector>

#include <gtest/gtest.h>

namespace nutshell::adaptation {
namespace {

using Ends = std::vector<std::size_t>;

Schedule make(std::size_t n, ScheduleOptions o = {}) {
  auto s = build_schedule(n, o);
  EXPECT_TRUE(s.ok()) << s.status();
  return *s;
}

// Every step in [first, last] is slow, everything else fast, and exactly
// the listed steps end windows.
void expect_layout(const Schedule& s, std::size_t first, std::size_t last, const Ends& ends) {
  EXPECT_EQ(s.window_ends, ends);
  ASSERT_EQ(s.labels.size(), s.num_steps);
  for (std::size_t i = 0; i < s.num_steps; ++i) {
    const bool slow = i >= first && i <= last;
    EXPECT_EQ(s.is_slow(i), slow) << "step " << i;
    const bool end = std::find(ends.begin(), ends.end(), i) != ends.end();
    EXPECT_EQ(s.is_window_end(i), end) << "step " << i;
  }
}

TEST(Schedule, ThousandStepsEndWindowsAtStansBoundaries) {
  const Schedule s = make(1000);
  expect_layout(s, 75, 949, {99, 149, 249, 449, 949});
  EXPECT_EQ(s.init_buffer, 75u);
  EXPECT_EQ(s.term_buffer, 50u);
}

TEST(Schedule, FewerThanTwentyStepsNeverAdaptTheMetric) {
  for (std::size_t n : {1u, 5u, 19u}) {
    const Schedule s = make(n);
    expect_layout(s, 1, 0, {});  // no slow step at all
  }
}

// Stan 2.35 computes this split but forgets restart(), so the window never
// ends and a 100-step warmup never touches the metric. Here it does.
TEST(Schedule, ShortWarmupFallsBackTo15_75_10AndAdapts) {
  const Schedule s100 = make(100);
  EXPECT_EQ(s100.init_buffer, 15u);
  EXPECT_EQ(s100.term_buffer, 10u);
  EXPECT_EQ(s100.base_window, 75u);
  expect_layout(s100, 15, 89, {89});  // Blackjax: 15 fast, 74 slow + end, 10 fast
  const Schedule s20 = make(20);
  expect_layout(s20, 3, 17, {17});
  const Schedule s149 = make(149);  // 75 + 25 + 50 = 150 > 149
  expect_layout(s149, 22, 134, {134});
}

TEST(Schedule, ExactFitAndTwoWindows) {
  expect_layout(make(150), 75, 99, {99});        // 75 fast, 24 slow + end, 50 fast
  expect_layout(make(200), 75, 149, {99, 149});  // Blackjax's N = 200 case
  // Stan's stretch can also shrink: the second window would end at 149 but
  // the window after it would not fit, so it ends at 109 with 10 draws.
  expect_layout(make(160), 75, 109, {99, 109});
}

TEST(Schedule, ZeroTermBufferClosesTheLastWindowOnTheLastStep) {
  const Schedule s = make(1000, {75, 0, 25});
  EXPECT_EQ(s.window_ends.back(), 999u);
  EXPECT_TRUE(s.is_window_end(999));
}

TEST(Schedule, RejectsZeroStepsAndZeroWindow) {
  EXPECT_EQ(build_schedule(0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(build_schedule(1000, {75, 50, 0}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Stan's windowed_adaptation (unsigned counters), transcribed, with the
// missing restart() added to the short-warmup branch.
Ends stan_window_ends(unsigned num_warmup, unsigned init, unsigned term, unsigned base) {
  unsigned n = 0, ib = 0, tb = 0, bw = 0;
  if (num_warmup >= 20) {
    n = num_warmup;
    if (init + base + term > num_warmup) {
      ib = 0.15 * num_warmup;
      tb = 0.1 * num_warmup;
      bw = num_warmup - (ib + tb);
    } else {
      ib = init;
      tb = term;
      bw = base;
    }
  }
  unsigned counter = 0, size = bw, next = ib + size - 1;
  Ends ends;
  for (unsigned it = 0; it < num_warmup; ++it) {
    const bool end = counter == next && counter != n;
    if (end) {
      ends.push_back(counter);
      if (next != n - tb - 1) {  // compute_next_window()
        size *= 2;
        next = counter + size;
        if (next != n - tb - 1) {
          const unsigned boundary = next + 2 * size;
          if (boundary >= n - tb) next = n - tb - 1;
        }
      }
    }
    ++counter;
  }
  return ends;
}

TEST(Schedule, AgreesWithStansStateMachineForEveryLength) {
  const ScheduleOptions configs[] = {{75, 50, 25}, {10, 10, 5}, {100, 0, 50}, {30, 20, 7}};
  for (const auto& o : configs)
    for (unsigned n = 1; n <= 3000; ++n) {
      const Schedule s = make(n, o);
      ASSERT_EQ(s.window_ends, stan_window_ends(n, o.init_buffer, o.term_buffer, o.base_window))
          << "N = " << n << " buffers " << o.init_buffer << "/" << o.term_buffer << "/"
          << o.base_window;
      // Windows tile [init_buffer, N - term_buffer - 1] without gaps.
      if (!s.window_ends.empty()) EXPECT_EQ(s.window_ends.back(), n - s.term_buffer - 1);
    }
}

}  // namespace
}  // namespace nutshell::adaptation

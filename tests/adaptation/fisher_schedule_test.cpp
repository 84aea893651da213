// nuts-rs's schedule with N = 1000: early switches every 10 draws up to draw
// 300, then windows of 80, 120, ... while a new window still fits before the
// final 15%.
#include <vector>

#include <gtest/gtest.h>

#include "nutshell/adaptation/fisher_schedule.hpp"

namespace nutshell::adaptation {
namespace {

// Replays the schedule with every draw kept; returns the draws after which
// the estimators switched.
std::vector<std::size_t> switches(const FisherSchedule& s) {
  std::vector<std::size_t> out;
  std::size_t background = 0, window = s.options.main_window;
  for (std::size_t draw = 0; draw < s.num_steps; ++draw) {
    if (s.is_final(draw)) continue;
    ++background;
    const auto d = s.decide(draw, background, window);
    window = d.main_window;
    if (d.switch_estimators) {
      out.push_back(draw);
      background = 0;
    }
  }
  return out;
}

TEST(FisherSchedule, PhaseBoundariesFor1000Draws) {
  const auto s = FisherSchedule::create(1000, {});
  EXPECT_EQ(s.early_end, 300u);
  EXPECT_EQ(s.final_start, 850u);
  EXPECT_TRUE(s.is_early(299));
  EXPECT_FALSE(s.is_early(300));
  EXPECT_FALSE(s.is_final(849));
  EXPECT_TRUE(s.is_final(850));
}

TEST(FisherSchedule, SwitchesEvery10EarlyThenGrowingWindows) {
  const auto s = FisherSchedule::create(1000, {});
  const auto got = switches(s);
  std::vector<std::size_t> want;
  for (std::size_t d = 9; d < 300; d += 10) want.push_back(d);
  want.push_back(379);  // 80 draws: 300..379
  want.push_back(499);  // 120 draws: 380..499
  // At 679 the background holds 180 draws, but the window after (270) could
  // not finish before 850: no switch, the foreground (from 380) keeps growing
  // to the final phase instead.
  EXPECT_EQ(got, want);
}

// "Late" (nuts-rs: dual averaging sees the symmetric statistic): from the
// draw where the window after the next switch could not finish before the
// final phase, and throughout the final phase. With N = 1000 the main window
// is 180 from draw 500 on and grows to 270, so late starts at 581 (581 + 270
// > 850), before the skipped switch at 679.
TEST(FisherSchedule, LateFromWhereTheNextWindowCannotFinish) {
  const auto s = FisherSchedule::create(1000, {});
  std::size_t background = 0, window = s.options.main_window, first_late = 0;
  for (std::size_t draw = 0; draw < s.num_steps; ++draw) {
    const bool late = s.is_late(draw, window);
    if (late && first_late == 0) first_late = draw;
    if (first_late != 0) EXPECT_TRUE(late) << draw;  // never early again
    if (s.is_final(draw)) continue;
    ++background;
    const auto d = s.decide(draw, background, window);
    window = d.main_window;
    if (d.switch_estimators) background = 0;
  }
  EXPECT_EQ(first_late, 581u);
  EXPECT_FALSE(s.is_late(299, 80));  // early: 299 + 10 <= 850
  EXPECT_TRUE(s.is_late(999, 80));   // final
  // A short warmup: early_end 80, final_start 85; the early window alone
  // makes draw 76 late (76 + 10 > 85) once the early phase is long enough.
  const auto shortw = FisherSchedule::create(100, {.early_fraction = 0.8});
  EXPECT_FALSE(shortw.is_late(75, 80));
  EXPECT_TRUE(shortw.is_late(76, 80));
}

TEST(FisherSchedule, NoSwitchWhenTheNextWindowCannotFinish) {
  const auto s = FisherSchedule::create(1000, {});
  const auto d = s.decide(800, 200, 200);  // 800 + 300 > 850
  EXPECT_FALSE(d.switch_estimators);
  EXPECT_FALSE(s.decide(860, 1000, 80).switch_estimators);  // final phase
}

TEST(FisherSchedule, ShortWarmupStillHasEarlyAndFinalPhases) {
  const auto s = FisherSchedule::create(100, {});
  EXPECT_EQ(s.early_end, 30u);
  EXPECT_EQ(s.final_start, 85u);
  const auto got = switches(s);
  // At 29 the first main window (80) could not finish before 85: no switch.
  EXPECT_EQ(got, (std::vector<std::size_t>{9, 19}));
}

TEST(FisherSchedule, RejectsBadOptions) {
  EXPECT_FALSE((FisherScheduleOptions{.early_fraction = 0.9, .final_fraction = 0.2}).validate().ok());
  EXPECT_FALSE((FisherScheduleOptions{.early_window = 0}).validate().ok());
  EXPECT_FALSE((FisherScheduleOptions{.window_growth = 0.5}).validate().ok());
  EXPECT_TRUE(FisherScheduleOptions{}.validate().ok());
}

}  // namespace
}  // namespace nutshell::adaptation

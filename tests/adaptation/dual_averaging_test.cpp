// Dual averaging: exact arithmetic of Stan's update and convergence on
// synthetic acceptance curves.
#include "nutshell/adaptation/dual_averaging.hpp"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace nutshell::adaptation {
namespace {

TEST(DualAveraging, InitSetsMuToLogTenEps) {
  const DualAveraging da;
  const auto s = da.init(0.5);
  EXPECT_DOUBLE_EQ(s.mu, std::log(5.0));
  EXPECT_DOUBLE_EQ(s.step_size(), 0.5);
  EXPECT_EQ(s.step, 0);
  EXPECT_DOUBLE_EQ(da.final(s), 0.5);  // no update yet: not Stan's exp(0) = 1
}

// One update by hand: t = 1, eta = 1/11, s_bar = (0.8 - a)/11,
// x = mu - s_bar * 1 / 0.05, and x_bar = x (weight 1^-0.75 = 1): Stan
// averages the new iterate, where Blackjax would average the old one.
TEST(DualAveraging, FirstUpdateMatchesStanByHand) {
  const DualAveraging da;
  const auto s = da.update(da.init(1.0), 0.3);
  const double s_bar = (0.8 - 0.3) / 11.0;
  const double x = std::log(10.0) - s_bar / 0.05;
  EXPECT_DOUBLE_EQ(s.error_avg, s_bar);
  EXPECT_DOUBLE_EQ(s.log_step_size, x);
  EXPECT_DOUBLE_EQ(s.log_step_size_avg, x);
  // Second update: weight 2^-0.75 on the new iterate.
  const auto s2 = da.update(s, 0.9);
  const double s_bar2 = (1.0 - 1.0 / 12.0) * s_bar + (0.8 - 0.9) / 12.0;
  const double x2 = std::log(10.0) - s_bar2 * std::sqrt(2.0) / 0.05;
  const double w = std::pow(2.0, -0.75);
  EXPECT_DOUBLE_EQ(s2.log_step_size, x2);
  EXPECT_DOUBLE_EQ(s2.log_step_size_avg, w * x2 + (1.0 - w) * x);
}

TEST(DualAveraging, ClipsAcceptanceAboveOneAndTreatsNanAsZero) {
  const DualAveraging da;
  const auto base = da.init(1.0);
  EXPECT_DOUBLE_EQ(da.update(base, 7.0).log_step_size, da.update(base, 1.0).log_step_size);
  EXPECT_DOUBLE_EQ(da.update(base, std::nan("")).log_step_size,
                   da.update(base, 0.0).log_step_size);
}

// accept(eps) = exp(-eps) is decreasing; the step size with acceptance delta
// is eps* = -log(delta). From far above and far below, exp(x_bar) must reach
// eps*, at dual averaging's O(1/sqrt(t)) rate: the relative error shrinks by
// more than 2.5 (sqrt(10) = 3.2 asymptotically) from t = 2000 to t = 20000,
// and ends within 1% (0.6, 0.8) or 4% (0.95, where acceptance is flat in eps
// and x_bar forgets the start slowly). Measured worst cases: 0.8%, 3.5%.
TEST(DualAveraging, ConvergesOnSyntheticAcceptance) {
  for (double target : {0.6, 0.8, 0.95})
    for (double eps0 : {1e-3, 1.0, 50.0}) {
      DualAveraging da;
      da.options.target = target;
      const double want = -std::log(target);
      auto s = da.init(eps0);
      double error_at_2000 = 0.0;
      for (int t = 1; t <= 20000; ++t) {
        s = da.update(s, std::exp(-s.step_size()));
        if (t == 2000) error_at_2000 = std::abs(da.final(s) / want - 1.0);
      }
      const double error = std::abs(da.final(s) / want - 1.0);
      EXPECT_LT(error, target < 0.9 ? 0.01 : 0.04) << "target " << target << " eps0 " << eps0;
      EXPECT_GT(error_at_2000 / error, 2.5) << "target " << target << " eps0 " << eps0;
    }
}

TEST(DualAveraging, ValidatesOptions) {
  for (double bad : {0.0, 1.0, -0.1, 1.5, std::nan("")}) {
    DualAveragingOptions o;
    o.target = bad;
    EXPECT_EQ(o.validate().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  DualAveragingOptions o;
  EXPECT_TRUE(o.validate().ok());
  o.kappa = 0.4;
  EXPECT_FALSE(o.validate().ok());
}

}  // namespace
}  // namespace nutshell::adaptation

// nutpie's diagonal estimate sqrt(Var(x) / Var(g)): exact for a Gaussian
// from any draws, because there g = -x / sigma^2 is an exact linear map of x.
#include <cmath>

#include <gtest/gtest.h>

#include "nutshell/adaptation/fisher_diagonal.hpp"
#include "nutshell/core/key.hpp"
#include "tests/support/alloc_counter.hpp"

namespace nutshell::adaptation {
namespace {

TEST(FisherDiagonal, RecoversGaussianVariancesExactlyFromFewDraws) {
  const Vec var = {0.01, 1.0, 25.0, 1e4};
  const Vec mean = {3.0, -1.0, 0.0, 100.0};
  auto m = draw_gradient_moments_init(4);
  Vec x = Vec::from_shape({4}), g = Vec::from_shape({4});
  for (std::uint64_t t = 0; t < 7; ++t) {  // far too few draws for the variance itself
    normal(fold_in(make_key(5), t), x);
    for (std::size_t i = 0; i < 4; ++i) {
      x(i) = mean(i) + std::sqrt(var(i)) * x(i);
      g(i) = -(x(i) - mean(i)) / var(i);
    }
    draw_gradient_accumulate(m, x, g);
  }
  Vec sigma2 = xt::ones<double>({4});
  ASSERT_TRUE(fisher_diagonal(m, sigma2).ok());
  for (std::size_t i = 0; i < 4; ++i) EXPECT_NEAR(sigma2(i) / var(i), 1.0, 1e-10) << i;
}

TEST(FisherDiagonal, NeedsTwoDrawsAndKeepsCoordinatesThatNeverVaried) {
  auto m = draw_gradient_moments_init(2);
  Vec sigma2 = {7.0, 7.0};
  EXPECT_FALSE(fisher_diagonal(m, sigma2).ok());
  draw_gradient_accumulate(m, Vec{1.0, 2.0}, Vec{-1.0, 0.5});
  EXPECT_FALSE(fisher_diagonal(m, sigma2).ok());
  draw_gradient_accumulate(m, Vec{3.0, 2.0}, Vec{-3.0, 0.5});
  ASSERT_TRUE(fisher_diagonal(m, sigma2).ok());
  EXPECT_DOUBLE_EQ(sigma2(0), 1.0);  // sqrt(2 / 2)
  EXPECT_DOUBLE_EQ(sigma2(1), 7.0);  // 0 / 0: unchanged
}

TEST(FisherDiagonal, InitialisesFromTheGradientAndClamps) {
  Vec sigma2 = Vec::from_shape({4});
  fisher_initial_diagonal(Vec{-4.0, 0.5, 0.0, 1e30}, sigma2);
  EXPECT_DOUBLE_EQ(sigma2(0), 0.25);
  EXPECT_DOUBLE_EQ(sigma2(1), 2.0);
  EXPECT_DOUBLE_EQ(sigma2(2), kFisherMaxScale);
  EXPECT_DOUBLE_EQ(sigma2(3), kFisherMinScale);
}

TEST(FisherDiagonal, AccumulateEstimateAndResetAllocateNothing) {
  auto m = draw_gradient_moments_init(3);
  const Vec x = {1.0, 2.0, 3.0}, g = {0.5, -0.5, 1.0};
  const Vec y = {2.0, 0.0, 1.0}, h = {-0.5, 0.5, 2.0};
  Vec sigma2 = xt::ones<double>({3});
  testing::AllocationScope scope;
  draw_gradient_accumulate(m, x, g);
  draw_gradient_accumulate(m, y, h);
  const bool ok = fisher_diagonal(m, sigma2).ok();
  draw_gradient_reset(m);
  EXPECT_EQ(scope.count(), 0);
  EXPECT_TRUE(ok);
  EXPECT_EQ(m.count(), 0u);
}

}  // namespace
}  // namespace nutshell::adaptation

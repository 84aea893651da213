// Multi-path Pathfinder and Pathfinder initialisation on a Gaussian and on a
// skewed target, and their bad-input statuses.
#include <cmath>
#include <cstdio>

#include <gtest/gtest.h>

#include "nutshell/vi/pathfinder_init.hpp"
#include "tests/vi/gaussian_targets.hpp"

namespace nutshell::vi {
namespace {

std::vector<Vec> starts(std::size_t n, std::size_t d, std::uint64_t seed) {
  std::vector<Vec> out;
  for (std::size_t i = 0; i < n; ++i) {
    Vec x = Vec::from_shape({d});
    Stream s(fold_in(make_key(seed), i));
    for (double& v : x) v = 4.0 * s.uniform() - 2.0;
    out.push_back(x);
  }
  return out;
}

// Resampled draws on the correlated Gaussian: means within 5 standard errors
// (resampling with replacement from a pool of 4 x 1000 inflates the sd by at
// most sqrt(2)), variances within 15%, and k-hat below the threshold.
TEST(Multipath, ResampledDrawsMatchGaussian) {
  const auto t = testing::correlated_5();
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    auto r = multipath::approximate(make_key(seed), t, starts(4, 5, seed));
    ASSERT_TRUE(r.ok()) << r.status();
    std::printf("seed %lu: k-hat %.3f, evaluations %zu\n", seed, r->k_hat, r->num_evaluations);
    EXPECT_LT(r->k_hat, 0.7);
    const double n = static_cast<double>(r->draws.shape(0));
    for (std::size_t i = 0; i < 5; ++i) {
      const auto col = xt::view(r->draws, xt::all(), i);
      const double sd = std::sqrt(t.covariance(i, i));
      EXPECT_NEAR(xt::mean(col)(), t.mean(i), 5 * std::sqrt(2.0) * sd / std::sqrt(n));
      EXPECT_NEAR(xt::variance(col)() / t.covariance(i, i), 1.0, 0.15);
    }
  }
}

TEST(Multipath, FailedPathsAreSkippedAndAllFailedIsAnError) {
  auto t = testing::correlated_5();
  std::vector<Vec> s = starts(2, 5, 1);
  s.push_back(Vec(xt::zeros<double>({5}) + std::nan("")));
  auto r = multipath::approximate(make_key(1), t, s);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->num_paths_failed, 1u);
  auto all_bad = multipath::approximate(make_key(1), t, {s[2], s[2]});
  ASSERT_FALSE(all_bad.ok());
  EXPECT_EQ(all_bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(multipath::approximate(make_key(1), t, {}).ok());
}

TEST(PathfinderInit, GivesStartingPointsAndDiagonalMetric) {
  const auto t = testing::diagonal_10();
  auto init = pathfinder_init(make_key(7), t, starts(4, 10, 7), 4);
  ASSERT_TRUE(init.ok()) << init.status();
  ASSERT_EQ(init->positions.size(), 4u);
  EXPECT_EQ(init->inverse_mass_matrix.dim(), 10u);
  for (std::size_t i = 0; i < 10; ++i) {
    // The variance of 1000 resampled draws: within 25% of the truth.
    EXPECT_NEAR(init->inverse_mass_diagonal(i) / t.covariance(i, i), 1.0, 0.25) << i;
    for (const Vec& p : init->positions)  // every start in the bulk (|z| < 4.5)
      EXPECT_LT(std::abs(p(i) - t.mean(i)), 4.5 * std::sqrt(t.covariance(i, i)));
  }
  EXPECT_FALSE(pathfinder_init(make_key(7), t, starts(4, 10, 7), 0).ok());
}

}  // namespace
}  // namespace nutshell::vi

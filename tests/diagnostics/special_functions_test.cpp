#include "nutshell/diagnostics/special_functions.hpp"

#include <cmath>
#include <iostream>
#include <limits>

#include <gtest/gtest.h>

#include "fixtures.hpp"

namespace nutshell::diagnostics {
namespace {

using testing::relative_deviation;

TEST(NormalQuantile, MatchesRQnorm) {
  const auto root = testing::load_json("special_functions.json");
  const auto p = testing::to_doubles(root.at("qnorm").at("p"));
  const auto q = testing::to_doubles(root.at("qnorm").at("q"));
  ASSERT_EQ(p.size(), q.size());
  double worst = 0.0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const double dev = relative_deviation(normal_quantile(p[i]), q[i]);
    EXPECT_LE(dev, 1e-15) << "p = " << p[i];
    worst = std::max(worst, dev);
  }
  std::cout << "qnorm max relative deviation: " << worst << "\n";
}

TEST(NormalQuantile, EdgeCases) {
  EXPECT_EQ(normal_quantile(0.5), 0.0);
  EXPECT_EQ(normal_quantile(0.0), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(normal_quantile(1.0), std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(normal_quantile(1.5)));
  EXPECT_TRUE(std::isnan(normal_quantile(std::nan(""))));
  EXPECT_DOUBLE_EQ(normal_quantile(0.3), -normal_quantile(0.7));
}

TEST(BetaIncInv, MatchesRQbeta) {
  const auto root = testing::load_json("special_functions.json");
  const auto& qb = root.at("qbeta");
  const auto a = testing::to_doubles(qb.at("a"));
  const auto b = testing::to_doubles(qb.at("b"));
  const auto p = testing::to_doubles(qb.at("p"));
  const auto x = testing::to_doubles(qb.at("x"));
  double worst = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double got = beta_inc_inv(a[i], b[i], p[i]);
    const double dev = relative_deviation(got, x[i]);
    EXPECT_LE(dev, 1e-13) << "a = " << a[i] << ", b = " << b[i] << ", p = " << p[i];
    worst = std::max(worst, dev);
    // And it inverts beta_inc (up to an ulp of x times the density, which
    // reaches ~100 for the largest a, b here).
    EXPECT_NEAR(beta_inc(a[i], b[i], got), p[i], 1e-13);
  }
  std::cout << "qbeta max relative deviation: " << worst << "\n";
}

TEST(BetaInc, KnownValues) {
  // I_x(1, 1) = x; I_x(a, 1) = x^a; I_x(1, b) = 1 - (1 - x)^b.
  EXPECT_NEAR(beta_inc(1, 1, 0.3), 0.3, 1e-15);
  EXPECT_NEAR(beta_inc(2.5, 1, 0.4), std::pow(0.4, 2.5), 1e-15);
  EXPECT_NEAR(beta_inc(1, 3, 0.2), 1 - std::pow(0.8, 3), 1e-15);
  // Symmetry I_x(a, b) = 1 - I_{1-x}(b, a).
  EXPECT_NEAR(beta_inc(30, 70, 0.35), 1 - beta_inc(70, 30, 0.65), 1e-14);
  EXPECT_EQ(beta_inc(2, 3, 0.0), 0.0);
  EXPECT_EQ(beta_inc(2, 3, 1.0), 1.0);
  EXPECT_TRUE(std::isnan(beta_inc(-1, 3, 0.5)));
  EXPECT_TRUE(std::isnan(beta_inc_inv(2, 3, 1.5)));
  EXPECT_EQ(beta_inc_inv(2, 3, 0.0), 0.0);
  EXPECT_EQ(beta_inc_inv(2, 3, 1.0), 1.0);
}

}  // namespace
}  // namespace nutshell::diagnostics

#include "nutshell/core/logdensity.hpp"

#include <cmath>

#include <gtest/gtest.h>

#include "tests/support/gaussian.hpp"

namespace nutshell {
namespace {

// Rosenbrock-like density with a hand-written gradient.
double banana(const Vec& x, Vec& g) {
  const double a = x(0), b = x(1);
  g(0) = -2.0 * (a - 1.0) / 20.0 + 4.0 * a * (b - a * a) / 1.0;
  g(1) = -2.0 * (b - a * a) / 1.0;
  return -(a - 1.0) * (a - 1.0) / 20.0 - (b - a * a) * (b - a * a);
}

TEST(CheckGradient, AcceptsCorrectGradients) {
  auto r = check_gradient(banana, Vec{0.3, -1.2});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_LT(r->max_relative_error, 1e-7);
  testing::Gaussian g = testing::Gaussian::correlated_2d();
  auto r2 = check_gradient(g, Vec{1.0, 2.0});
  ASSERT_TRUE(r2.ok());
  EXPECT_LT(r2->max_relative_error, 1e-7);
}

TEST(CheckGradient, FindsAWrongComponent) {
  auto wrong = [](const Vec& x, Vec& g) {
    double lp = banana(x, g);
    g(1) *= 1.01;  // a 1% bug in one component
    return lp;
  };
  auto r = check_gradient(wrong, Vec{0.3, -1.2});
  ASSERT_TRUE(r.ok());
  EXPECT_GT(r->max_relative_error, 1e-3);
  EXPECT_EQ(r->worst_index, 1u);
}

TEST(CheckGradient, ReportsThrowsAndNonFinite) {
  auto thrower = [](const Vec&, Vec&) -> double { throw std::runtime_error("bad model"); };
  auto r = check_gradient(thrower, Vec{0.0});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("bad model"), std::string::npos);
  auto nan = [](const Vec&, Vec& g) {
    g.fill(0.0);
    return std::nan("");
  };
  EXPECT_FALSE(check_gradient(nan, Vec{0.0}).ok());
  EXPECT_FALSE(check_gradient(banana, Vec{NAN, 0.0}).ok());
}

TEST(LogDensity, ValueOnlyAdaptor) {
  ValueOnly<double (*)(const Vec&, Vec&)> v(banana);
  Vec g = Vec::from_shape({2});
  EXPECT_EQ(v(Vec{0.5, 0.5}), banana(Vec{0.5, 0.5}, g));
  static_assert(LogDensityValue<decltype(v)>);
  static_assert(LogDensity<decltype(&banana)>);
}

}  // namespace
}  // namespace nutshell

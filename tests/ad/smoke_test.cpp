#include <gtest/gtest.h>

#include <cmath>
#include <span>

#include "nutshell/ad/ad.hpp"
#include "nutshell/core/logdensity.hpp"

namespace nutshell::ad {
namespace {

struct Model {
  template <class T>
  T operator()(std::span<const T> x) const {
    return -0.5 * ad::squared_norm(x) + ad::exp(x[0]) * x[1] + ad::log1p_exp(x[1]);
  }
};

static_assert(LogDensity<AdLogDensity<Model>>);
static_assert(LogDensityValue<AdLogDensity<Model>>);

TEST(AdSmoke, GradientMatchesClosedForm) {
  auto lp = make_logdensity(Model{});
  Vec x = {0.3, -0.7};
  Vec g = Vec::from_shape({2});
  const double v = lp(x, g);
  EXPECT_NEAR(v, -0.5 * (0.09 + 0.49) + std::exp(0.3) * -0.7 + log1p_exp(-0.7), 1e-14);
  EXPECT_NEAR(g(0), -0.3 + std::exp(0.3) * -0.7, 1e-14);
  EXPECT_NEAR(g(1), 0.7 + std::exp(0.3) + inv_logit(-0.7), 1e-14);
  EXPECT_DOUBLE_EQ(lp(x), v);
  auto check = check_gradient(lp, x);
  ASSERT_TRUE(check.ok());
  EXPECT_LT(check->max_relative_error, 1e-7);
}

TEST(AdSmoke, GenericLambda) {
  auto lp = make_logdensity([](auto x) { return ad::dot(x, x) * ad::sum(x); });
  Vec x = {1.0, 2.0};
  Vec g = Vec::from_shape({2});
  EXPECT_DOUBLE_EQ(lp(x, g), 15.0);
  EXPECT_DOUBLE_EQ(g(0), 2.0 * 3.0 + 5.0);
  EXPECT_DOUBLE_EQ(g(1), 4.0 * 3.0 + 5.0);
  Vec v = {1.0, 0.0}, hv;
  auto f = lp.model();
  EXPECT_DOUBLE_EQ(directional_derivative(f, x, v), 11.0);
  hessian_vector_product(f, x, v, hv);
  // f = (x0^2 + x1^2)(x0 + x1): H v = (2s + 4 x0, 2 x0 + 2 x1) with s = x0 + x1.
  EXPECT_DOUBLE_EQ(hv(0), 10.0);
  EXPECT_DOUBLE_EQ(hv(1), 6.0);
}

}  // namespace
}  // namespace nutshell::ad

// Every transform through ad::var: the gradient of log|J| + w . y(u) (w
// fixed random weights, so every output entry matters) against finite
// differences, at the origin, at random points and far out; and a var
// evaluation gives exactly the double one's value.
#include <gtest/gtest.h>

#include <cmath>
#include <span>
#include <vector>

#include "nutshell/ad/ad.hpp"
#include "nutshell/constraints/constraints.hpp"
#include "nutshell/core/key.hpp"
#include "nutshell/core/logdensity.hpp"

namespace nutshell::constraints {
namespace {

template <class Tr>
struct Weighted {
  Tr t;
  std::vector<double> w;
  template <class T>
  T operator()(std::span<const T> u) const {
    std::vector<T> y(t.constrained_size(), T(0.0));
    T lp = T(0.0);
    t.template constrain<T>(u, std::span<T>(y), lp);
    for (std::size_t i = 0; i < y.size(); ++i) lp = lp + w[i] * y[i];
    return lp;
  }
};

std::vector<Vec> points(std::size_t n, double far) {
  std::vector<Vec> out{xt::zeros<double>({n})};
  for (std::uint64_t seed = 0; seed < 4; ++seed) {
    Stream s(make_key(100 + seed));
    Vec u = Vec::from_shape({n});
    for (double& v : u) v = (seed < 3 ? 1.0 : far) * s.normal();
    out.push_back(u);
  }
  return out;
}

template <class Tr>
void check(const Tr& t, double far = 4.0) {
  Stream s(make_key(7));
  Weighted<Tr> f{t, std::vector<double>(t.constrained_size())};
  for (double& v : f.w) v = s.normal();
  auto density = ad::make_logdensity(f);
  for (const Vec& u : points(t.unconstrained_size(), far)) {
    if constexpr (std::is_same_v<Tr, UnitVector>)
      if (xt::amax(xt::abs(u))() == 0.0) continue;  // the origin has no direction
    auto c = check_gradient(density, u);
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_LT(c->max_relative_error, 1e-6) << "worst coordinate " << c->worst_index;
    Vec grad = Vec::from_shape({u.size()});
    const double with_var = density(u, grad);
    const double with_double = f(std::span<const double>(u.data(), u.size()));
    EXPECT_NEAR(with_var, with_double, 1e-14 * std::max(1.0, std::abs(with_double)))
        << typeid(Tr).name();
  }
}

TEST(TransformGradients, Elementwise) {
  check(Identity{3});
  check(Lower{-1.0, 3});
  check(Upper{2.0, 3});
  check(Interval{-1.0, 3.0, 3}, 10.0);
}

TEST(TransformGradients, Ordered) {
  check(Ordered{1});
  check(Ordered{4});
  check(PositiveOrdered{4});
}

TEST(TransformGradients, Simplex) {
  check(Simplex{2});
  check(Simplex{5}, 6.0);
}

TEST(TransformGradients, UnitVector) { check(UnitVector{4}); }

TEST(TransformGradients, CholeskyCorr) {
  check(CholeskyCorr{2});
  check(CholeskyCorr{4}, 5.0);
}

TEST(TransformGradients, CovMatrix) {
  check(CovMatrix{1});
  check(CovMatrix{3}, 2.0);
}

// Far into the tails the gradient stays finite where the value is.
TEST(TransformGradients, FiniteFarOut) {
  Weighted<CholeskyCorr> f{CholeskyCorr{3}, {1, 1, 1, 1, 1, 1, 1, 1, 1}};
  auto density = ad::make_logdensity(f);
  Vec u = {40.0, -40.0, 35.0};
  Vec grad = Vec::from_shape({3});
  const double lp = density(u, grad);
  EXPECT_TRUE(std::isfinite(lp));
  EXPECT_TRUE(all_finite(grad));
  Weighted<Interval> g{Interval{0.0, 1.0, 2}, {1.0, 1.0}};
  auto d2 = ad::make_logdensity(g);
  Vec v = {-700.0, 700.0};
  Vec g2 = Vec::from_shape({2});
  EXPECT_TRUE(std::isfinite(d2(v, g2)));
  EXPECT_TRUE(all_finite(g2));
}

}  // namespace
}  // namespace nutshell::constraints

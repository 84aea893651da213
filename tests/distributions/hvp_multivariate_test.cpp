// Hessian-vector products through the distributions (forward over reverse:
// the densities' nested-scalar path) for vector arguments and broadcasting, multi_normal_cholesky, lkj_corr_cholesky, and the nested value against the fast path.
// See hvp_check.hpp for what each check asserts: HVP against finite
// differences of the gradient at points including the domain's edges, for
// each subset of the arguments made autodiff, full and propto; symmetry; no
// NaN.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "hvp_check.hpp"
#include "nutshell/ad/ad.hpp"
#include "nutshell/constraints/constraints.hpp"
#include "nutshell/distributions/distributions.hpp"

namespace nutshell::distributions {
namespace {

using namespace hvp_test;  // NOLINT: the shared checks of this test family

TEST(DistributionsHvp, VectorArgumentsAndBroadcasting) {
  // x = (mu, sigma, y[0..3]).
  const std::vector<Point> points = {{0.3, 1.7, -0.5, 0.9, 2.2, -1.4}, {-2.0, 0.05, 0.1, -0.1, 0.02, 0.0}};
  const std::vector<double> data = {0.5, 1.5, 2.0, 0.25};
  for (const Point& x : points) {
    check("vectors", [&](auto x) {
      const auto y = x.subspan(2);
      return normal_lpdf(y, x[0], x[1]) + student_t_lpdf(y, 4.0, x[0], x[1]) +
             cauchy_lpdf<true>(data, y, x[1]) + lognormal_lpdf(data, y, x[1]) +
             gamma_lpdf(data, x[1], ad::exp(x[0])) + normal_lpdf(x[0], y, 3.0);
    }, x);
  }
}

TEST(DistributionsHvp, MultiNormalCholeskyAndLkj) {
  // x = (y[0..2], mu[0..2], the 3 entries below L's diagonal, log diag[0..2], log eta).
  const std::vector<Point> points = {{0.3, -0.2, 1.1, 0.0, 0.5, -0.4, 0.2, -0.3, 0.6, 0.1, -0.2, 0.3, 0.4},
                                     {2.0, -1.5, 0.7, 0.1, 0.2, 0.3, 1.5, -0.9, 0.8, -2.0, 0.5, -1.0, -3.0}};
  for (const Point& x : points) {
    check("multi_normal_cholesky", [](auto x) {
      using T = typename decltype(x)::value_type;
      std::vector<T> L(9, T(0.0));
      L[3] = x[6], L[6] = x[7], L[7] = x[8];
      for (int i = 0; i < 3; ++i) L[4 * i] = ad::exp(x[9 + i]);
      return multi_normal_cholesky_lpdf(x.subspan(0, 3), x.subspan(3, 3), L) +
             multi_normal_cholesky_lpdf<true>(std::vector<double>{0.1, 0.2, 0.3, -1.0, 0.5, 2.0},
                                              x.subspan(3, 3), L);
    }, x);
    check("lkj_corr_cholesky", [](auto x) {
      using T = typename decltype(x)::value_type;
      // A Cholesky factor of a correlation matrix from the cholesky_corr transform.
      std::vector<T> L(9, T(0.0));
      T lp = 0.0;
      constraints::CholeskyCorr{3}.template constrain<T>(x.subspan(6, 3), std::span<T>(L), lp);
      return lp + lkj_corr_cholesky_lpdf(L, ad::exp(x[12])) + lkj_corr_cholesky_lpdf<true>(L, 2.5);
    }, x);
  }
}

TEST(DistributionsHvp, ValueEqualsFastPath) {
  // The nested path's value against the double path's, full and propto.
  using FV = ad::fvar<ad::var>;
  ad::TapeScope scope;
  const FV s(ad::var(1.7), ad::var(0.0)), a(ad::var(0.4), ad::var(0.0));
  const std::vector<double> y = {0.5, -1.5, 2.0};
  EXPECT_NEAR(normal_lpdf(y, a, s).val(), normal_lpdf(y, 0.4, 1.7), 1e-13);
  EXPECT_NEAR(student_t_lpdf<true>(y, s, a, 2.0).val(),
              student_t_lpdf<true>(y, ad::var(1.7), ad::var(0.4), 2.0).val(), 1e-12);
  EXPECT_NEAR(neg_binomial_2_lpmf(kCounts, s, s).val(), neg_binomial_2_lpmf(kCounts, 1.7, 1.7), 1e-12);
  EXPECT_NEAR(beta_lpdf(0.3, s, a).val(), beta_lpdf(0.3, 1.7, 0.4), 1e-13);
  // Outside the support: -infinity; a bad parameter: the fast path's error.
  EXPECT_EQ(gamma_lpdf(-1.0, s, s).val(), -INFINITY);
  EXPECT_THROW(normal_lpdf(0.0, a, FV(ad::var(-1.0), ad::var(0.0))), std::domain_error);
  static_assert(std::is_same_v<decltype(normal_lpdf(1.0, a, 1.0)), FV>);
}

}  // namespace
}  // namespace nutshell::distributions

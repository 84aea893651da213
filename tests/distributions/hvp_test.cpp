// Hessian-vector products through the distributions (forward over reverse:
// the densities' nested-scalar path): for every family, H v by
// ad::hessian_vector_product equals central finite differences of the AD
// gradient along v, at several parameter points including points near the
// edges of the domain (small scales and shapes, probabilities near 0 and 1,
// large log odds), for each subset of the arguments made autodiff; H is
// symmetric (u . H v = v . H u); and no entry is NaN where the value is
// finite. Also the propto form, vector arguments, and the value against the
// fast path.
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "nutshell/ad/ad.hpp"
#include "nutshell/constraints/constraints.hpp"
#include "nutshell/distributions/distributions.hpp"

namespace nutshell::distributions {
namespace {

using Point = std::vector<double>;

std::vector<double> gradient(auto& f, const Point& x) {
  std::vector<double> g(x.size());
  ad::value_and_gradient(f, std::span<const double>(x), std::span<double>(g));
  return g;
}

std::vector<double> hvp(auto& f, const Point& x, const std::vector<double>& v, double* value) {
  std::vector<double> hv(x.size());
  *value = ad::hessian_vector_product(f, std::span<const double>(x), std::span<const double>(v),
                                      std::span<double>(hv));
  return hv;
}

// H v by central differences of the gradient along v (Richardson-extrapolated,
// step 1e-3 along v: the directions are scaled to each coordinate's distance
// from the domain edges, see `check`). The step is not smaller because
// x + t v is rounded: next to 1 - 1e-6 a step of 1e-10 would carry an
// error of 1e-6 in itself.
std::vector<double> fd_hvp(auto& f, const Point& x, const std::vector<double>& v) {
  const double h = 1e-3;
  auto grad_at = [&](double t) {
    Point xt = x;
    for (std::size_t i = 0; i < x.size(); ++i) xt[i] += t * v[i];
    return gradient(f, xt);
  };
  const auto g1p = grad_at(h), g1m = grad_at(-h), g2p = grad_at(h / 2), g2m = grad_at(-h / 2);
  std::vector<double> out(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double c1 = (g1p[i] - g1m[i]) / (2 * h), c2 = (g2p[i] - g2m[i]) / h;
    out[i] = (4 * c2 - c1) / 3;
  }
  return out;
}

// Checks f at x: HVP vs FD along two directions, symmetry, the value. The
// directions move only the coordinates in `mask` (bit i: coordinate i), the
// ones f reads as autodiff scalars (it reads the others as doubles, constants
// to every mode).
void check(const std::string& label, auto f, const Point& x, unsigned mask = ~0u,
           double tol = 1e-6) {
  SCOPED_TRACE(label);
  const std::size_t n = x.size();
  std::vector<double> u(n), v(n);
  for (std::size_t i = 0; i < n; ++i) {
    // Each coordinate moves by at most its distance to 0 (and to 1 for a
    // value in (0, 1)), so the finite differences stay inside the domain.
    double s = 1.0;
    if (x[i] != 0.0) s = std::min(s, std::abs(x[i]));
    if (x[i] > 0.0 && x[i] < 1.0) s = std::min(s, 1.0 - x[i]);
    if (i < 32 && ((mask >> i) & 1u) == 0u) s = 0.0;
    u[i] = s * std::sin(1.3 * static_cast<double>(i) + 0.4);
    v[i] = s * std::cos(0.7 * static_cast<double>(i) + 1.1);
  }
  // The value on the tape (with propto it drops the terms of the constants).
  std::vector<double> g(n);
  const double lp = ad::value_and_gradient(f, std::span<const double>(x), std::span<double>(g));
  ASSERT_TRUE(std::isfinite(lp));
  double lp_u = 0.0, lp_v = 0.0;
  const auto hu = hvp(f, x, u, &lp_u);
  const auto hv = hvp(f, x, v, &lp_v);
  EXPECT_NEAR(lp_u, lp, 1e-12 * std::max(1.0, std::abs(lp)));
  for (const auto* h : {&hu, &hv})
    for (std::size_t i = 0; i < n; ++i) ASSERT_TRUE(std::isfinite((*h)[i])) << "entry " << i;
  const auto fu = fd_hvp(f, x, u), fv = fd_hvp(f, x, v);
  double hmax = 1.0;
  for (std::size_t i = 0; i < n; ++i) hmax = std::max({hmax, std::abs(fu[i]), std::abs(fv[i])});
  for (std::size_t i = 0; i < n; ++i) {
    EXPECT_NEAR(hu[i], fu[i], tol * hmax) << "H u, entry " << i;
    EXPECT_NEAR(hv[i], fv[i], tol * hmax) << "H v, entry " << i;
  }
  double uhv = 0.0, vhu = 0.0;
  for (std::size_t i = 0; i < n; ++i) uhv += u[i] * hv[i], vhu += v[i] * hu[i];
  EXPECT_NEAR(uhv, vhu, 1e-12 * hmax * static_cast<double>(n)) << "symmetry";
}

// Argument K of x: autodiff when bit K of Mask is set, else its double value.
template <unsigned Mask, std::size_t K, class T>
auto arg(std::span<const T> x) {
  if constexpr (((Mask >> K) & 1u) != 0u)
    return x[K];
  else
    return ad::value_of(x[K]);
}

// Runs `body.template operator()<Mask>()` for every non-empty Mask < 2^N.
template <std::size_t N, class F>
void masks(F&& body) {
  [&]<std::size_t... M>(std::index_sequence<M...>) {
    (body.template operator()<static_cast<unsigned>(M + 1)>(), ...);
  }(std::make_index_sequence<(std::size_t{1} << N) - 1>{});
}

// Every subset of the first N coordinates made autodiff, full and propto.
#define NUTSHELL_HVP_SCALAR(N, LABEL, CALL)                                                  \
  masks<N>([&]<unsigned M>() {                                                               \
    for (const Point& x : points) {                                                          \
      check(std::string(LABEL) + " mask " + std::to_string(M), [](auto x) {                  \
        constexpr bool propto = false;                                                       \
        return CALL;                                                                         \
      }, x, M);                                                                              \
      check(std::string(LABEL) + " propto mask " + std::to_string(M), [](auto x) {           \
        constexpr bool propto = true;                                                        \
        return CALL;                                                                         \
      }, x, M);                                                                              \
    }                                                                                        \
  })

TEST(DistributionsHvp, Normal) {
  const std::vector<Point> points = {{0.3, -0.2, 1.3}, {4.0, 0.1, 0.01}, {-1e3, 2e3, 50.0}};
  NUTSHELL_HVP_SCALAR(3, "normal", (normal_lpdf<propto>(arg<M, 0>(x), arg<M, 1>(x), arg<M, 2>(x))));
}
TEST(DistributionsHvp, StudentT) {
  const std::vector<Point> points = {{0.3, 3.0, -0.2, 1.3}, {40.0, 0.05, 0.1, 0.02}, {-1.0, 500.0, 1.0, 3.0}};
  NUTSHELL_HVP_SCALAR(4, "student_t",
                      (student_t_lpdf<propto>(arg<M, 0>(x), arg<M, 1>(x), arg<M, 2>(x), arg<M, 3>(x))));
}
TEST(DistributionsHvp, Cauchy) {
  const std::vector<Point> points = {{0.3, -0.2, 1.3}, {40.0, 0.1, 0.01}, {-2.0, 1.0, 300.0}};
  NUTSHELL_HVP_SCALAR(3, "cauchy", (cauchy_lpdf<propto>(arg<M, 0>(x), arg<M, 1>(x), arg<M, 2>(x))));
}
TEST(DistributionsHvp, Lognormal) {
  const std::vector<Point> points = {{0.3, -0.2, 1.3}, {1e-6, 0.1, 0.05}, {200.0, 3.0, 0.5}};
  NUTSHELL_HVP_SCALAR(3, "lognormal", (lognormal_lpdf<propto>(arg<M, 0>(x), arg<M, 1>(x), arg<M, 2>(x))));
}
TEST(DistributionsHvp, Uniform) {
  const std::vector<Point> points = {{0.3, -0.2, 1.3}, {1e-3, -1e-3, 1e-2}};
  NUTSHELL_HVP_SCALAR(3, "uniform", (uniform_lpdf<propto>(arg<M, 0>(x), arg<M, 1>(x), arg<M, 2>(x))));
}
TEST(DistributionsHvp, Exponential) {
  const std::vector<Point> points = {{0.3, 1.3}, {1e-8, 1e-3}, {50.0, 40.0}};
  NUTSHELL_HVP_SCALAR(2, "exponential", (exponential_lpdf<propto>(arg<M, 0>(x), arg<M, 1>(x))));
}
TEST(DistributionsHvp, Gamma) {
  const std::vector<Point> points = {{0.3, 2.0, 1.3}, {1e-3, 0.01, 0.5}, {30.0, 200.0, 7.0}};
  NUTSHELL_HVP_SCALAR(3, "gamma", (gamma_lpdf<propto>(arg<M, 0>(x), arg<M, 1>(x), arg<M, 2>(x))));
}
TEST(DistributionsHvp, InvGamma) {
  const std::vector<Point> points = {{0.3, 2.0, 1.3}, {1e-2, 0.02, 0.05}, {30.0, 200.0, 7.0}};
  NUTSHELL_HVP_SCALAR(3, "inv_gamma", (inv_gamma_lpdf<propto>(arg<M, 0>(x), arg<M, 1>(x), arg<M, 2>(x))));
}
TEST(DistributionsHvp, Beta) {
  const std::vector<Point> points = {{0.3, 2.0, 1.3}, {1e-4, 0.05, 3.0}, {0.9999, 300.0, 0.2}};
  NUTSHELL_HVP_SCALAR(3, "beta", (beta_lpdf<propto>(arg<M, 0>(x), arg<M, 1>(x), arg<M, 2>(x))));
}

// Count families: the parameter is coordinate 0; counts are data.
#define NUTSHELL_HVP_COUNT(LABEL, CALL)                                                      \
  for (const Point& x : points) {                                                            \
    check(std::string(LABEL), [](auto x) {                                                   \
      constexpr bool propto = false;                                                         \
      return CALL;                                                                           \
    }, x);                                                                                   \
    check(std::string(LABEL) + " propto", [](auto x) {                                       \
      constexpr bool propto = true;                                                          \
      return CALL;                                                                           \
    }, x);                                                                                   \
  }

const std::vector<int> kCounts = {0, 3, 1, 7, 0, 12};
const std::vector<int> kTrials = {2, 5, 1, 9, 4, 12};
const std::vector<int> kBits = {0, 1, 1, 0, 1, 0};

TEST(DistributionsHvp, Poisson) {
  const std::vector<Point> points = {{2.5}, {1e-4}, {300.0}};
  NUTSHELL_HVP_COUNT("poisson", (poisson_lpmf<propto>(kCounts, x[0])));
  NUTSHELL_HVP_COUNT("poisson scalar", (poisson_lpmf<propto>(0, x[0])));
}
TEST(DistributionsHvp, PoissonLog) {
  const std::vector<Point> points = {{0.9}, {-12.0}, {6.0}};
  NUTSHELL_HVP_COUNT("poisson_log", (poisson_log_lpmf<propto>(kCounts, x[0])));
}
TEST(DistributionsHvp, Binomial) {
  const std::vector<Point> points = {{0.4}, {1e-5}, {1.0 - 1e-5}};
  NUTSHELL_HVP_COUNT("binomial (scalar)", (binomial_lpmf<propto>(3, 5, x[0])));
  NUTSHELL_HVP_COUNT("binomial k = 0", (binomial_lpmf<propto>(0, 5, x[0])));
  NUTSHELL_HVP_COUNT("binomial k = n", (binomial_lpmf<propto>(5, 5, x[0])));
}
TEST(DistributionsHvp, BinomialVector) {
  const std::vector<Point> points = {{0.4}, {0.02}, {0.97}};
  NUTSHELL_HVP_COUNT("binomial", (binomial_lpmf<propto>(kCounts, kTrials, x[0])));
}
TEST(DistributionsHvp, BinomialLogit) {
  const std::vector<Point> points = {{0.4}, {-30.0}, {25.0}};
  NUTSHELL_HVP_COUNT("binomial_logit", (binomial_logit_lpmf<propto>(kCounts, kTrials, x[0])));
}
TEST(DistributionsHvp, Bernoulli) {
  const std::vector<Point> points = {{0.4}, {1e-6}, {1.0 - 1e-6}};
  NUTSHELL_HVP_COUNT("bernoulli 1", (bernoulli_lpmf<propto>(1, x[0])));
  NUTSHELL_HVP_COUNT("bernoulli 0", (bernoulli_lpmf<propto>(0, x[0])));
  const std::vector<Point> inner = {{0.4}, {0.01}, {0.99}};
  for (const Point& x : inner)
    check("bernoulli vector", [](auto x) { return bernoulli_lpmf(kBits, x[0]); }, x);
}
TEST(DistributionsHvp, BernoulliLogit) {
  const std::vector<Point> points = {{0.4}, {-40.0}, {35.0}};
  NUTSHELL_HVP_COUNT("bernoulli_logit", (bernoulli_logit_lpmf<propto>(kBits, x[0])));
}
TEST(DistributionsHvp, NegBinomial2) {
  const std::vector<Point> points = {{2.5, 1.5}, {1e-3, 1e-2}, {40.0, 1e4}};
  masks<2>([&]<unsigned M>() {
    for (const Point& x : points)
      check("neg_binomial_2 mask " + std::to_string(M),
            [](auto x) { return neg_binomial_2_lpmf(kCounts, arg<M, 0>(x), arg<M, 1>(x)); }, x, M);
    for (const Point& x : points)
      check("neg_binomial_2_log mask " + std::to_string(M), [](auto x) {
        return neg_binomial_2_log_lpmf<true>(kCounts, arg<M, 0>(x), arg<M, 1>(x));
      }, x, M);
  });
}

TEST(DistributionsHvp, Categorical) {
  // theta = softmax(x) (a simplex built in the model), and the logit form.
  const std::vector<Point> points = {{0.1, -0.3, 0.8, 0.0}, {-12.0, 0.0, 3.0, 9.0}};
  const std::vector<int> cats = {0, 2, 2, 3, 1, 2};
  for (const Point& x : points) {
    check("categorical", [&](auto x) {
      using T = typename decltype(x)::value_type;
      const T lse = ad::log_sum_exp(x);
      std::vector<T> theta;
      for (const T& v : x) theta.push_back(ad::exp(v - lse));
      return categorical_lpmf(cats, theta);
    }, x);
    check("categorical_logit", [&](auto x) { return categorical_logit_lpmf(cats, x); }, x);
    check("categorical_logit one", [&](auto x) { return categorical_logit_lpmf<true>(3, x); }, x);
  }
}

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

// The multivariate log densities: multi_normal_cholesky against the 2-d
// closed form and a product of normals; lkj_corr_cholesky integrates to 1
// over the Cholesky factors (numerically, K = 2 and 3); gradients against
// finite differences for every subset of var arguments; propto.
#include <cmath>
#include <numbers>
#include <span>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

#include "grad.hpp"
#include "nutshell/distributions/continuous.hpp"
#include "nutshell/distributions/multivariate.hpp"

namespace nutshell::distributions {
namespace {

using dist_testing::expect_gradient;
using dist_testing::for_each_mask;

// Coordinates [off, off + len) of x: as they are when bit K of Mask is set,
// else copied to doubles in `buf`.
template <unsigned Mask, std::size_t K, class T>
auto sub(std::span<const T> x, std::size_t off, std::size_t len, std::vector<double>& buf) {
  if constexpr (((Mask >> K) & 1u) != 0u) {
    return x.subspan(off, len);
  } else {
    buf.resize(len);
    for (std::size_t i = 0; i < len; ++i) buf[i] = ad::value_of(x[off + i]);
    return std::span<const double>(buf);
  }
}

TEST(LpdfMultivariate, MultiNormalCholeskyMatchesTheTwoDimensionalFormula) {
  const std::vector<double> y{0.7, -1.2}, mu{0.1, 0.4}, L{1.5, 0.0, -0.6, 0.8};
  const double a = 1.5 * 1.5, b = 1.5 * -0.6, c = 0.36 + 0.64, det = a * c - b * b;
  const double r0 = 0.6, r1 = -1.6;
  const double quad = (c * r0 * r0 - 2 * b * r0 * r1 + a * r1 * r1) / det;
  EXPECT_NEAR(multi_normal_cholesky_lpdf(y, mu, L),
              -0.5 * quad - 0.5 * std::log(det) - std::log(2 * std::numbers::pi), 1e-13);
  // A diagonal factor is a product of independent normals, over 2 observations.
  const std::vector<double> y2{0.3, 1.0, -2.0, 0.5, 0.0, 1.5}, mu3{0.0, 1.0, -1.0},
      D{0.5, 0, 0, 0, 2.0, 0, 0, 0, 1.3};
  double expected = 0;
  for (int r = 0; r < 2; ++r)
    for (int i = 0; i < 3; ++i) expected += normal_lpdf(y2[r * 3 + i], mu3[i], D[i * 4]);
  EXPECT_NEAR(multi_normal_cholesky_lpdf(y2, mu3, D), expected, 1e-13);
}

TEST(LpdfMultivariate, MultiNormalCholeskyGradientsForEverySubsetOfVarArguments) {
  // Two observations of dimension 3; the upper triangle of L is ignored.
  const std::vector<double> x{0.3, 1.0, -2.0, 0.5, 0.0, 1.5,   // y
                              0.2, 0.9, -1.1,                   // mu
                              1.2, 9.0, 9.0, 0.4, 0.7, 9.0, -0.3, 0.25, 1.1};  // L
  for_each_mask<3>([&]<unsigned M>() {
    auto make = [](auto x, bool propto) {
      std::vector<double> b0, b1, b2;
      auto y = sub<M, 0>(x, 0, 6, b0);
      auto mu = sub<M, 1>(x, 6, 3, b1);
      auto L = sub<M, 2>(x, 9, 9, b2);
      using R = decltype(multi_normal_cholesky_lpdf(y, mu, L));
      return propto ? R(multi_normal_cholesky_lpdf<true>(y, mu, L)) : multi_normal_cholesky_lpdf(y, mu, L);
    };
    auto f = [&](auto x) { return make(x, false); };
    auto fp = [&](auto x) { return make(x, true); };
    // Bits of the mask are argument groups here: check every coordinate of a
    // var group, none of a double one.
    std::vector<double> g, gp;
    dist_testing::ad_gradient(f, x, g);
    dist_testing::ad_gradient(fp, x, gp);
    const std::size_t group[18] = {0, 0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2};
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double fd = ((M >> group[i]) & 1u) ? dist_testing::finite_difference(f, x, i) : 0.0;
      EXPECT_NEAR(g[i], fd, 2e-6 * std::max(1.0, std::abs(fd))) << "mask " << M << " coordinate " << i;
      EXPECT_NEAR(gp[i], g[i], 1e-12) << "propto gradient, mask " << M << " coordinate " << i;
    }
    // One tape node, however many observations and dimensions.
    if constexpr (M != 0u) {
      EXPECT_EQ(dist_testing::nodes_recorded(f, x), 1u);
    }
  });
}

TEST(LpdfMultivariate, LkjCorrCholeskyIntegratesToOneInTwoAndThreeDimensions) {
  const double pi = std::numbers::pi;
  constexpr int kGrid = 800;
  for (double eta : {1.0, 2.5, 0.8}) {
    // K = 2: L = [[1, 0], [r, sqrt(1 - r^2)]], r = sin t.
    double total2 = 0;
    for (int i = 0; i < kGrid; ++i) {
      const double t = -pi / 2 + (i + 0.5) * pi / kGrid;
      const std::vector<double> L{1, 0, std::sin(t), std::cos(t)};
      total2 += std::exp(lkj_corr_cholesky_lpdf(L, eta)) * std::cos(t) * pi / kGrid;
    }
    EXPECT_NEAR(total2, 1.0, 2e-4) << "eta " << eta;
    // K = 3: free entries L10 = sin t, and (L20, L21) = sin(s) (cos u, sin u)
    // on the unit disc; the density does not depend on u.
    double total3 = 0;
    for (int i = 0; i < kGrid; ++i) {
      const double t = -pi / 2 + (i + 0.5) * pi / kGrid;
      for (int j = 0; j < kGrid / 2; ++j) {
        const double s = (j + 0.5) * (pi / 2) / (kGrid / 2);
        const double l20 = std::sin(s) * 0.6, l21 = std::sin(s) * 0.8;
        const std::vector<double> L{1, 0, 0, std::sin(t), std::cos(t), 0, l20, l21, std::cos(s)};
        const double jac = std::cos(t) * std::sin(s) * std::cos(s) * 2 * pi;
        total3 += std::exp(lkj_corr_cholesky_lpdf(L, eta)) * jac * (pi / kGrid) * (pi / 2 / (kGrid / 2));
      }
    }
    EXPECT_NEAR(total3, 1.0, 2e-4) << "eta " << eta;
  }
}

TEST(LpdfMultivariate, LkjCorrCholeskyGradientsAndPropto) {
  // A valid 3x3 factor (unit rows), then eta.
  const double a = 0.3, b = -0.5, c = 0.4;
  const std::vector<double> x{1, 0, 0, a, std::sqrt(1 - a * a), 0, b, c, std::sqrt(1 - b * b - c * c), 1.7};
  for_each_mask<2>([&]<unsigned M>() {
    auto make = [](auto x, auto propto) {
      std::vector<double> buf;
      auto L = sub<M, 0>(x, 0, 9, buf);
      auto eta = [&] {
        if constexpr ((M & 2u) != 0u)
          return x[9];
        else
          return ad::value_of(x[9]);
      }();
      return lkj_corr_cholesky_lpdf<decltype(propto)::value>(L, eta);
    };
    auto f = [&](auto x) { return make(x, std::false_type{}); };
    auto fp = [&](auto x) { return make(x, std::true_type{}); };
    std::vector<double> g, gp;
    const double v = dist_testing::ad_gradient(f, x, g);
    const double vp = dist_testing::ad_gradient(fp, x, gp);
    for (std::size_t i = 0; i < x.size(); ++i) {
      // Off the lower triangle the density is -infinity: no derivative there.
      const bool upper = i < 9 && i % 3 > i / 3;
      const bool is_var = !upper && (i < 9 ? (M & 1u) != 0u : (M & 2u) != 0u);
      const double fd = is_var ? dist_testing::finite_difference(f, x, i) : 0.0;
      EXPECT_NEAR(g[i], fd, 2e-6 * std::max(1.0, std::abs(fd))) << "mask " << M << " coordinate " << i;
      EXPECT_NEAR(gp[i], g[i], 1e-12);
    }
    // propto drops exactly log c_K(eta) when eta is data.
    if constexpr (M == 1u) {
      EXPECT_NEAR(v - vp, -detail::lkj_log_constant(1.7, 3, nullptr), 1e-12);
    }
    if constexpr ((M & 2u) != 0u) {
      EXPECT_NEAR(v, vp, 1e-12);
    }
  });
}

TEST(LpdfMultivariate, InvalidArguments) {
  const std::vector<double> mu{0, 0}, y{1, 1}, bad_L{1, 0, 0.5, -1}, L{1, 0, 0.5, 0.8};
  EXPECT_THROW(multi_normal_cholesky_lpdf(y, mu, bad_L), std::domain_error);
  const std::vector<double> L3{1, 0, 0};
  EXPECT_THROW(multi_normal_cholesky_lpdf(y, mu, L3), std::invalid_argument);
  const std::vector<double> y3{1, 1, 1};
  EXPECT_THROW(multi_normal_cholesky_lpdf(y3, mu, L), std::invalid_argument);
  const std::vector<double> corr{1, 0, 0.6, 0.8}, upper{1, 0.1, 0.6, 0.8};
  EXPECT_THROW(lkj_corr_cholesky_lpdf(corr, 0.0), std::domain_error);
  EXPECT_EQ(lkj_corr_cholesky_lpdf(upper, 2.0), -INFINITY);
  EXPECT_EQ(lkj_corr_cholesky_lpdf(bad_L, 2.0), -INFINITY);
}

}  // namespace
}  // namespace nutshell::distributions

namespace nutshell::distributions {
namespace {

// A data factor takes the BLAS path (dtrsv, an exponent-bit check of L); a
// var factor the element loops. Both must agree, in value and in the
// gradient with respect to y and mu, on a 7-d factor with 3 observations
// (mu shared and one mu per row), and the data path must still reject a
// non-finite entry anywhere in the strict lower triangle.
TEST(LpdfMultivariate, DataFactorPathAgreesWithTheGenericPath) {
  const std::size_t d = 7, m = 3;
  std::vector<double> L(d * d, 0.0), y(m * d), mu_rows(m * d), mu(d);
  for (std::size_t i = 0; i < d; ++i) {
    for (std::size_t j = 0; j < i; ++j) L[i * d + j] = 0.3 * std::sin(1.0 + 3.0 * i + 7.0 * j);
    L[i * d + i] = 0.7 + 0.1 * static_cast<double>(i);
    mu[i] = 0.2 * std::cos(static_cast<double>(i));
  }
  for (std::size_t k = 0; k < m * d; ++k) {
    y[k] = std::sin(0.9 * static_cast<double>(k));
    mu_rows[k] = 0.1 * std::cos(1.3 * static_cast<double>(k));
  }
  for (const std::vector<double>* means : {&mu, &mu_rows}) {
    const std::size_t nm = means->size();
    std::vector<double> x(y);
    x.insert(x.end(), means->begin(), means->end());
    auto data_factor = [&](auto xs) {
      return multi_normal_cholesky_lpdf(xs.subspan(0, m * d), xs.subspan(m * d, nm), L);
    };
    auto var_factor = [&](auto xs) {
      using T = typename decltype(xs)::value_type;
      std::vector<T> Lv(L.begin(), L.end());
      return multi_normal_cholesky_lpdf(xs.subspan(0, m * d), xs.subspan(m * d, nm), Lv);
    };
    std::vector<double> g1, g2;
    const double v1 = dist_testing::ad_gradient(data_factor, x, g1);
    const double v2 = dist_testing::ad_gradient(var_factor, x, g2);
    EXPECT_NEAR(v1, v2, 1e-12 * std::abs(v2));
    for (std::size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(g1[i], g2[i], 1e-12 * (1.0 + std::abs(g2[i])));
    expect_gradient(data_factor, x, 0u, "multi_normal_cholesky data factor", /*all=*/true);
  }
  for (double bad : {std::nan(""), double{INFINITY}, -double{INFINITY}}) {
    for (std::size_t k : {d, (d - 1) * d, (d - 1) * d + d - 2}) {  // (1,0), (6,0), (6,5)
      std::vector<double> Lb(L);
      Lb[k] = bad;
      EXPECT_THROW(multi_normal_cholesky_lpdf(y, mu, Lb), std::domain_error);
      std::vector<double> g;
      auto f = [&](auto xs) { return multi_normal_cholesky_lpdf(xs, mu, Lb); };
      EXPECT_THROW(dist_testing::ad_gradient(f, y, g), std::domain_error);
    }
  }
  std::vector<double> Lz(L);
  Lz[2 * d + 2] = 0.0;  // a zero on the diagonal
  EXPECT_THROW(multi_normal_cholesky_lpdf(y, mu, Lz), std::domain_error);
}

}  // namespace
}  // namespace nutshell::distributions

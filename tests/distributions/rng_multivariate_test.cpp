// Draws from the multivariate families, checked through distributions that
// are known exactly: Dirichlet marginals are Beta, a linear projection of a
// multivariate normal is normal, and every off-diagonal LKJ(eta) correlation
// in dimension K is 2 Beta(eta - 1 + K/2, eta - 1 + K/2) - 1.
#include <cmath>
#include <numbers>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "nutshell/diagnostics/special_functions.hpp"
#include "nutshell/distributions/rng_multivariate.hpp"
#include "stats.hpp"

namespace nutshell::distributions {
namespace {

using dist_testing::expect_mean_var;
using dist_testing::kMinPValue;
using dist_testing::ks_pvalue;
using dist_testing::test_keys;

constexpr std::size_t kN = 20000;

TEST(RngMultivariate, DirichletMarginalsAreBeta) {
  for (const std::vector<double>& alpha :
       {std::vector<double>{0.05, 0.2, 0.1}, std::vector<double>{1.0, 2.0, 3.0, 4.0}, std::vector<double>{50.0, 20.0}}) {
    double a0 = 0.0;
    for (double a : alpha) a0 += a;
    for (const Key& key : test_keys()) {
      std::vector<std::vector<double>> marg(alpha.size(), std::vector<double>(kN));
      std::vector<double> out(alpha.size());
      for (std::size_t i = 0; i < kN; ++i) {
        dirichlet_rng(fold_in(key, i), alpha, out);
        double total = 0.0;
        for (std::size_t k = 0; k < out.size(); ++k) {
          ASSERT_GE(out[k], 0.0);
          total += out[k];
          marg[k][i] = out[k];
        }
        ASSERT_NEAR(total, 1.0, 1e-12);
      }
      for (std::size_t k = 0; k < alpha.size(); ++k) {
        const double a = alpha[k], b = a0 - a;
        EXPECT_GT(ks_pvalue(marg[k], [=](double x) { return diagnostics::beta_inc(a, b, x); }), kMinPValue)
            << "dirichlet component " << k << " alpha0 " << a0;
        expect_mean_var(marg[k], a / a0, a * b / (a0 * a0 * (a0 + 1)), "dirichlet");
      }
    }
  }
}

TEST(RngMultivariate, MultiNormalCholeskyMomentsAndProjection) {
  const std::vector<double> mu{1.0, -2.0, 0.5};
  const std::vector<double> L{2.0, 0.0, 0.0,  //
                              -0.6, 0.5, 0.0,  //
                              0.3, 1.2, 0.7};
  // Sigma = L L^T, and a projection a^T x ~ N(a^T mu, a^T Sigma a).
  double sigma[3][3] = {};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 3; ++k) sigma[i][j] += L[i * 3 + k] * L[j * 3 + k];
  const double a[3] = {0.3, -1.0, 2.0};
  double pm = 0.0, pv = 0.0;
  for (int i = 0; i < 3; ++i) {
    pm += a[i] * mu[i];
    for (int j = 0; j < 3; ++j) pv += a[i] * a[j] * sigma[i][j];
  }
  for (const Key& key : test_keys()) {
    std::vector<std::vector<double>> x(3, std::vector<double>(kN));
    std::vector<double> proj(kN), cross(kN), out(3);
    for (std::size_t i = 0; i < kN; ++i) {
      multi_normal_cholesky_rng(fold_in(key, i), mu, L, out);
      for (int d = 0; d < 3; ++d) x[d][i] = out[d];
      proj[i] = a[0] * out[0] + a[1] * out[1] + a[2] * out[2];
      cross[i] = (out[1] - mu[1]) * (out[2] - mu[2]);
    }
    for (int d = 0; d < 3; ++d) expect_mean_var(x[d], mu[d], sigma[d][d], "multi_normal " + std::to_string(d));
    // The covariance of coordinates 1 and 2, as the mean of their product.
    double c = 0, c2 = 0;
    for (double v : cross) c += v, c2 += v * v;
    c /= kN;
    EXPECT_LT(std::abs(c - sigma[1][2]), 5.0 * std::sqrt((c2 / kN - c * c) / kN));
    EXPECT_GT(ks_pvalue(proj, [=](double y) { return 0.5 * std::erfc(-(y - pm) / std::sqrt(2 * pv)); }),
              kMinPValue);
  }
}

TEST(RngMultivariate, LkjCorrCholeskyCorrelationsAreScaledBeta) {
  for (std::size_t d : {2u, 4u}) {
    for (double eta : {0.5, 1.0, 4.0}) {
      const double b = eta - 1.0 + 0.5 * static_cast<double>(d);
      for (const Key& key : test_keys()) {
        std::vector<double> L(d * d);
        std::vector<std::vector<double>> r(d * d, std::vector<double>(kN));
        for (std::size_t n = 0; n < kN; ++n) {
          lkj_corr_cholesky_rng(fold_in(key, n), eta, L);
          for (std::size_t i = 0; i < d; ++i) {
            double norm = 0.0;
            for (std::size_t j = 0; j < d; ++j) {
              if (j > i) {
                ASSERT_EQ(L[i * d + j], 0.0);
              }
              norm += L[i * d + j] * L[i * d + j];
            }
            ASSERT_GT(L[i * d + i], 0.0);
            ASSERT_NEAR(norm, 1.0, 1e-12);
            for (std::size_t j = 0; j < i; ++j) {
              double omega = 0.0;
              for (std::size_t k = 0; k <= j; ++k) omega += L[i * d + k] * L[j * d + k];
              r[i * d + j][n] = 0.5 * (omega + 1.0);
            }
          }
        }
        for (std::size_t i = 0; i < d; ++i)
          for (std::size_t j = 0; j < i; ++j) {
            const auto label = "lkj d=" + std::to_string(d) + " eta=" + std::to_string(eta) + " (" +
                               std::to_string(i) + "," + std::to_string(j) + ")";
            EXPECT_GT(ks_pvalue(r[i * d + j], [=](double x) { return diagnostics::beta_inc(b, b, x); }),
                      kMinPValue)
                << label;
            expect_mean_var(r[i * d + j], 0.5, 1.0 / (4.0 * (2.0 * b + 1.0)), label);
          }
      }
    }
  }
}

TEST(RngMultivariate, InvalidArgumentsThrow) {
  const Key k = make_key(2);
  std::vector<double> out(2), L(4);
  const std::vector<double> bad_alpha{1.0, 0.0}, mu{0.0, 0.0}, bad_L{1.0, 0.0, 0.5, -1.0};
  EXPECT_THROW(dirichlet_rng(k, bad_alpha, out), std::domain_error);
  EXPECT_THROW(multi_normal_cholesky_rng(k, mu, bad_L, out), std::domain_error);
  EXPECT_THROW(lkj_corr_cholesky_rng(k, 0.0, L), std::domain_error);
  std::vector<double> L3(3);
  EXPECT_THROW(lkj_corr_cholesky_rng(k, 1.0, L3), std::invalid_argument);
}

}  // namespace
}  // namespace nutshell::distributions

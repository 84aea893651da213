// The continuous log densities: values against closed forms written out
// here, gradients against finite differences for every subset of var
// arguments, propto against the full density, and invalid parameters.
#include <cmath>
#include <functional>
#include <numbers>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "grad.hpp"
#include "nutshell/distributions/continuous.hpp"
#include "nutshell/distributions/continuous_positive.hpp"

namespace nutshell::distributions {
namespace {

using dist_testing::check_all_masks;
using dist_testing::expect_gradient;
using dist_testing::for_each_mask;
using dist_testing::pick;

const double kPi = std::numbers::pi;

#define NUTSHELL_FAMILY3(FN)                                                                        \
  []<unsigned M>(auto x) { return FN<false>(pick<M, 0>(x), pick<M, 1>(x), pick<M, 2>(x)); },      \
      []<unsigned M>(auto x) { return FN<true>(pick<M, 0>(x), pick<M, 1>(x), pick<M, 2>(x)); }
#define NUTSHELL_FAMILY2(FN)                                                    \
  []<unsigned M>(auto x) { return FN<false>(pick<M, 0>(x), pick<M, 1>(x)); }, \
      []<unsigned M>(auto x) { return FN<true>(pick<M, 0>(x), pick<M, 1>(x)); }

TEST(LpdfContinuous, NormalValueAndGradients) {
  EXPECT_NEAR(normal_lpdf(1.3, -0.2, 2.5),
              -0.5 * std::pow((1.3 + 0.2) / 2.5, 2) - std::log(2.5) - 0.5 * std::log(2 * kPi), 1e-14);
  check_all_masks<3>("normal", NUTSHELL_FAMILY3(normal_lpdf), {1.3, -0.2, 2.5}, {-0.4, 0.7, 0.6});
}

TEST(LpdfContinuous, StudentTValueAndGradients) {
  const double y = 1.7, nu = 3.5, mu = 0.4, s = 1.8, z = (y - mu) / s;
  EXPECT_NEAR(student_t_lpdf(y, nu, mu, s),
              std::lgamma((nu + 1) / 2) - std::lgamma(nu / 2) - 0.5 * std::log(nu * kPi) - std::log(s) -
                  (nu + 1) / 2 * std::log(1 + z * z / nu),
              1e-13);
  // nu = 1 is the Cauchy.
  EXPECT_NEAR(student_t_lpdf(y, 1.0, mu, s), cauchy_lpdf(y, mu, s), 1e-13);
  check_all_masks<4>(
      "student_t",
      []<unsigned M>(auto x) {
        return student_t_lpdf<false>(pick<M, 0>(x), pick<M, 1>(x), pick<M, 2>(x), pick<M, 3>(x));
      },
      []<unsigned M>(auto x) {
        return student_t_lpdf<true>(pick<M, 0>(x), pick<M, 1>(x), pick<M, 2>(x), pick<M, 3>(x));
      },
      {y, nu, mu, s}, {-2.0, 7.0, 1.1, 0.3});
}

TEST(LpdfContinuous, CauchyValueAndGradients) {
  EXPECT_NEAR(cauchy_lpdf(2.0, 0.5, 1.5), -std::log(kPi * 1.5 * (1 + 1.0)), 1e-14);
  check_all_masks<3>("cauchy", NUTSHELL_FAMILY3(cauchy_lpdf), {2.0, 0.5, 1.5}, {-1.0, 0.1, 0.2});
}

TEST(LpdfContinuous, LognormalValueAndGradients) {
  const double y = 2.2, mu = 0.3, s = 0.7, z = (std::log(y) - mu) / s;
  EXPECT_NEAR(lognormal_lpdf(y, mu, s), -0.5 * z * z - std::log(s * y * std::sqrt(2 * kPi)), 1e-14);
  EXPECT_EQ(lognormal_lpdf(-1.0, mu, s), -INFINITY);
  EXPECT_EQ(lognormal_lpdf(0.0, mu, s), -INFINITY);
  check_all_masks<3>("lognormal", NUTSHELL_FAMILY3(lognormal_lpdf), {y, mu, s}, {0.4, -1.0, 2.0});
}

TEST(LpdfContinuous, UniformValueAndGradients) {
  EXPECT_NEAR(uniform_lpdf(0.3, -1.0, 3.0), -std::log(4.0), 1e-15);
  EXPECT_EQ(uniform_lpdf(3.5, -1.0, 3.0), -INFINITY);
  EXPECT_EQ(uniform_lpdf(-1.5, -1.0, 3.0), -INFINITY);
  check_all_masks<3>("uniform", NUTSHELL_FAMILY3(uniform_lpdf), {0.3, -1.0, 3.0}, {0.5, -2.0, 1.0});
}

TEST(LpdfContinuous, ExponentialValueAndGradients) {
  EXPECT_NEAR(exponential_lpdf(0.8, 2.5), std::log(2.5) - 2.0, 1e-15);
  EXPECT_NEAR(exponential_lpdf(0.0, 2.5), std::log(2.5), 1e-15);
  EXPECT_EQ(exponential_lpdf(-0.1, 2.5), -INFINITY);
  check_all_masks<2>("exponential", NUTSHELL_FAMILY2(exponential_lpdf), {0.8, 2.5}, {3.0, 0.2});
}

TEST(LpdfContinuous, GammaValueAndGradients) {
  const double y = 1.4, a = 2.3, b = 0.9;
  EXPECT_NEAR(gamma_lpdf(y, a, b), a * std::log(b) - std::lgamma(a) + (a - 1) * std::log(y) - b * y, 1e-14);
  // Gamma(1, b) is Exponential(b).
  EXPECT_NEAR(gamma_lpdf(y, 1.0, b), exponential_lpdf(y, b), 1e-14);
  EXPECT_EQ(gamma_lpdf(-1.0, a, b), -INFINITY);
  check_all_masks<3>("gamma", NUTSHELL_FAMILY3(gamma_lpdf), {y, a, b}, {0.2, 0.5, 3.0});
}

TEST(LpdfContinuous, InvGammaValueAndGradients) {
  const double y = 0.6, a = 3.1, b = 1.7;
  EXPECT_NEAR(inv_gamma_lpdf(y, a, b), a * std::log(b) - std::lgamma(a) - (a + 1) * std::log(y) - b / y, 1e-14);
  // If X ~ Gamma(a, b) then 1/X ~ InvGamma(a, b): densities differ by the Jacobian 1/y^2.
  EXPECT_NEAR(inv_gamma_lpdf(y, a, b), gamma_lpdf(1.0 / y, a, b) - 2.0 * std::log(y), 1e-13);
  check_all_masks<3>("inv_gamma", NUTSHELL_FAMILY3(inv_gamma_lpdf), {y, a, b}, {2.0, 0.4, 5.0});
}

TEST(LpdfContinuous, BetaValueAndGradients) {
  const double y = 0.35, a = 2.5, b = 0.7;
  EXPECT_NEAR(beta_lpdf(y, a, b),
              std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + (a - 1) * std::log(y) +
                  (b - 1) * std::log(1 - y),
              1e-14);
  EXPECT_NEAR(beta_lpdf(0.3, 1.0, 1.0), 0.0, 1e-15);
  EXPECT_EQ(beta_lpdf(1.0, a, b), -INFINITY);
  EXPECT_EQ(beta_lpdf(-0.2, a, b), -INFINITY);
  check_all_masks<3>("beta", NUTSHELL_FAMILY3(beta_lpdf), {y, a, b}, {0.9, 0.3, 4.0});
}

TEST(LpdfContinuous, InvalidParametersThrowDomainError) {
  EXPECT_THROW(normal_lpdf(0.0, 0.0, 0.0), std::domain_error);
  EXPECT_THROW(normal_lpdf(0.0, 0.0, -1.0), std::domain_error);
  EXPECT_THROW(normal_lpdf(0.0, INFINITY, 1.0), std::domain_error);
  EXPECT_THROW(normal_lpdf(NAN, 0.0, 1.0), std::domain_error);
  EXPECT_THROW(student_t_lpdf(0.0, 0.0, 0.0, 1.0), std::domain_error);
  EXPECT_THROW(cauchy_lpdf(0.0, 0.0, NAN), std::domain_error);
  EXPECT_THROW(lognormal_lpdf(1.0, 0.0, 0.0), std::domain_error);
  EXPECT_THROW(uniform_lpdf(0.0, 1.0, 1.0), std::domain_error);
  EXPECT_THROW(exponential_lpdf(1.0, -2.0), std::domain_error);
  EXPECT_THROW(gamma_lpdf(1.0, 0.0, 1.0), std::domain_error);
  EXPECT_THROW(gamma_lpdf(1.0, 1.0, INFINITY), std::domain_error);
  EXPECT_THROW(inv_gamma_lpdf(1.0, -1.0, 1.0), std::domain_error);
  EXPECT_THROW(beta_lpdf(0.5, 1.0, 0.0), std::domain_error);
  try {
    normal_lpdf(0.0, 0.0, -1.0);
  } catch (const std::domain_error& e) {
    EXPECT_EQ(std::string(e.what()), "normal_lpdf: scale is -1, but must be positive and finite");
  }
}

TEST(LpdfContinuous, VarParameterOutsideSupportThrowsOnTheTapeToo) {
  ad::TapeScope scope;
  EXPECT_THROW(normal_lpdf(1.0, ad::var(0.0), ad::var(-1.0)), std::domain_error);
  const ad::var r = gamma_lpdf(ad::var(-1.0), ad::var(2.0), 1.0);
  EXPECT_EQ(r.val(), -INFINITY);
}

}  // namespace
}  // namespace nutshell::distributions

namespace nutshell::distributions {
namespace {
// Extreme but valid arguments: finite value, finite gradient matching
// finite differences.
TEST(LpdfContinuous, GradientsFiniteAtExtremeValidArguments) {
  auto beta = [](auto x) { return beta_lpdf(x[0], x[1], x[2]); };
  dist_testing::expect_gradient(beta, {1e-8, 0.5, 3.0}, 7u, "beta near 0", false, 1e-5);
  dist_testing::expect_gradient(beta, {1 - 1e-8, 3.0, 0.5}, 7u, "beta near 1", false, 1e-5);
  dist_testing::expect_gradient(beta, {0.3, 1e-3, 1e3}, 7u, "beta extreme shapes", false, 1e-5);
  auto gamma = [](auto x) { return gamma_lpdf(x[0], x[1], x[2]); };
  dist_testing::expect_gradient(gamma, {1e-10, 0.01, 1e3}, 7u, "gamma tiny y", false, 1e-5);
  auto st = [](auto x) { return student_t_lpdf(x[0], x[1], x[2], x[3]); };
  dist_testing::expect_gradient(st, {1e4, 0.5, 0.0, 1.0}, 15u, "student_t far tail", false, 1e-5);
  dist_testing::expect_gradient(st, {1.0, 1e6, 0.0, 1.0}, 15u, "student_t huge nu", false, 1e-4);
  auto normal = [](auto x) { return normal_lpdf(x[0], x[1], x[2]); };
  dist_testing::expect_gradient(normal, {1e3, 0.0, 1e-3}, 7u, "normal 1e6 sigmas out", false, 1e-5);
}
}  // namespace
}  // namespace nutshell::distributions

// The README's Distributions sample, compiled and run (keep in step with
// README.md): its gradient matches finite differences and its draws are
// what they claim.
#include <array>
#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

#include <gtest/gtest.h>

#include "nutshell/nutshell.hpp"

namespace {

namespace dist = nutshell::distributions;
using nutshell::Vec;

TEST(ReadmeDistributions, EightSchoolsModelAndDraws) {
  // --- as in README.md ---
  const std::vector<double> y{28, 8, -3, 7, -1, 1, 18, 12}, sigma{15, 10, 16, 11, 9, 11, 10, 18};
  auto model = [&](auto x) {
    using T = std::remove_cvref_t<decltype(x[0])>;
    const T mu = x[0], tau = nutshell::ad::exp(x[1]);
    auto eta = x.subspan(2, 8);
    auto theta = nutshell::ad::affine(mu, tau, eta);  // mu + tau * eta: one node
    return dist::normal_lpdf<true>(y, theta, sigma)  // one node for the 8 schools
           + dist::normal_lpdf<true>(eta, 0.0, 1.0) + dist::normal_lpdf<true>(mu, 0.0, 5.0) +
           dist::cauchy_lpdf<true>(tau, 0.0, 5.0) + x[1];  // half-Cauchy, log-Jacobian
  };
  auto logdensity = nutshell::ad::make_logdensity(model);  // what every kernel takes

  auto key = nutshell::make_key(7);
  std::int64_t count = dist::poisson_rng(nutshell::fold_in(key, 0), 1000.0);
  double p = dist::beta_rng(nutshell::fold_in(key, 1), 0.5, 0.5);
  // --- end ---

  Vec x = Vec::from_shape({10});
  for (std::size_t i = 0; i < 10; ++i) x(i) = 0.1 * static_cast<double>(i) - 0.3;
  Vec g = Vec::from_shape({10});
  const double v = logdensity(x, g);
  // The same density written out by hand, up to the dropped constants.
  auto by_hand = [&](const Vec& z) {
    const double mu = z(0), tau = std::exp(z(1));
    double lp = -0.5 * mu * mu / 25.0 - std::log1p(tau * tau / 25.0) + z(1);
    for (std::size_t j = 0; j < 8; ++j) {
      const double th = mu + tau * z(2 + j);
      lp += -0.5 * std::pow((y[j] - th) / sigma[j], 2) - 0.5 * z(2 + j) * z(2 + j);
    }
    return lp;
  };
  for (int shift = 0; shift < 2; ++shift) {
    Vec x2 = x + 0.2 * shift;
    Vec g2 = Vec::from_shape({10});
    EXPECT_NEAR(logdensity(x2, g2) - by_hand(x2), v - by_hand(x), 1e-10);
  }
  for (std::size_t i = 0; i < 10; ++i) {
    Vec up = x, down = x;
    up(i) += 1e-6;
    down(i) -= 1e-6;
    EXPECT_NEAR(g(i), (by_hand(up) - by_hand(down)) / 2e-6, 1e-5) << i;
  }
  EXPECT_GT(count, 850);
  EXPECT_LT(count, 1150);
  EXPECT_GT(p, 0.0);
  EXPECT_LT(p, 1.0);
}

}  // namespace

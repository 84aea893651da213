// An AD log density goes to the drivers as it is: NUTS with window adaptation
// through `sample`, bitwise identical chains at 1 and 2 threads, and means
// within 4 MCSE of the truth (the README's Autodiff example).
#include <gtest/gtest.h>

#include <cmath>
#include <span>

#include "nutshell/ad/ad.hpp"
#include "nutshell/diagnostics/diagnostics.hpp"
#include "nutshell/run/sample.hpp"

namespace nutshell::ad {
namespace {

// mu ~ N(1, 1), log_sigma ~ N(0, 0.5), x ~ N(mu, exp(log_sigma)) restricted to
// the marginal of (mu, log_sigma) after observing y = {0.5, 1.5, 2.0}:
// a small hierarchical model written once as a generic lambda.
auto model = [](auto u) {
  const auto& mu = u[0];
  const auto& log_sigma = u[1];
  const double y[] = {0.5, 1.5, 2.0};
  auto lp = -0.5 * ad::square(mu - 1.0) - 0.5 * ad::square(log_sigma / 0.5);
  for (double yi : y) lp += -log_sigma - 0.5 * ad::square((yi - mu) / ad::exp(log_sigma));
  return lp;
};

SampleOptions options(std::size_t threads) {
  SampleOptions o;
  o.num_chains = 4;
  o.num_warmup = 500;
  o.num_samples = 1000;
  o.num_threads = threads;
  o.progress_bar = false;
  return o;
}

TEST(AdSample, NutsBitwiseIdenticalAcrossThreads) {
  auto logdensity = make_logdensity(model);
  auto one = sample(make_key(3), logdensity, Vec{0.0, 0.0}, options(1));
  auto two = sample(make_key(3), logdensity, Vec{0.0, 0.0}, options(2));
  ASSERT_TRUE(one.ok() && two.ok());
  ASSERT_TRUE(one->status.ok()) << one->status;
  ASSERT_EQ(one->positions.shape(), two->positions.shape());
  EXPECT_TRUE(std::equal(one->positions.begin(), one->positions.end(), two->positions.begin()));
}

TEST(AdSample, MeansAgreeWithQuadrature) {
  // Posterior means by brute-force quadrature on a fine grid.
  double z = 0.0, m_mu = 0.0, m_ls = 0.0;
  for (int i = 0; i < 800; ++i)
    for (int j = 0; j < 800; ++j) {
      const double mu = -4.0 + 10.0 * i / 800.0, ls = -3.0 + 5.0 * j / 800.0;
      const double x[] = {mu, ls};
      const double w = std::exp(model(std::span<const double>(x, 2)));
      z += w;
      m_mu += w * mu;
      m_ls += w * ls;
    }
  m_mu /= z;
  m_ls /= z;
  for (std::uint64_t seed : {11u, 12u, 13u, 14u, 15u}) {
    auto draws = sample(make_key(seed), make_logdensity(model), Vec{0.0, 0.0}, options(2));
    ASSERT_TRUE(draws.ok() && draws->status.ok());
    auto mcse = diagnostics::mcse_mean(draws->positions);
    ASSERT_TRUE(mcse.ok());
    const auto means = xt::eval(xt::mean(draws->positions, {0, 1}));
    EXPECT_LT(std::abs(means(0) - m_mu), 4.0 * (*mcse)(0)) << "seed " << seed;
    EXPECT_LT(std::abs(means(1) - m_ls), 4.0 * (*mcse)(1)) << "seed " << seed;
  }
}

}  // namespace
}  // namespace nutshell::ad

// A well-separated bimodal target, 0.3 N(-8, 1) + 0.7 N(8, 1): tempered SMC
// from a N(0, 10^2) prior recovers both modes with the right weights, while
// a single NUTS chain stays in the mode it finds first.
#include <cmath>
#include <cstdio>

#include <gtest/gtest.h>

#include "nutshell/core/logdensity.hpp"
#include "nutshell/mcmc/hmc.hpp"
#include "nutshell/mcmc/nuts.hpp"
#include "nutshell/smc/adaptive_tempered.hpp"

namespace nutshell::smc {
namespace {

constexpr double kMode = 8.0, kLeftWeight = 0.3, kPriorSd = 10.0;

double log_normal(double x, double mu, double sd) {
  const double z = (x - mu) / sd;
  return -0.5 * z * z - std::log(sd) - 0.9189385332046727;
}

// log(0.3 N(x; -8, 1) + 0.7 N(x; 8, 1)) and its derivative.
double log_target(double x, double& dx) {
  const double a = std::log(kLeftWeight) + log_normal(x, -kMode, 1.0);
  const double b = std::log(1.0 - kLeftWeight) + log_normal(x, kMode, 1.0);
  const double m = std::max(a, b);
  const double lse = m + std::log(std::exp(a - m) + std::exp(b - m));
  const double pa = std::exp(a - lse), pb = std::exp(b - lse);
  dx = pa * (-kMode - x) + pb * (kMode - x);
  return lse;
}

struct Prior {
  double operator()(const Vec& x, Vec& g) const {
    g(0) = -x(0) / (kPriorSd * kPriorSd);
    return log_normal(x(0), 0.0, kPriorSd);
  }
};
// The "likelihood" is target / prior, so prior * likelihood is the target.
struct Likelihood {
  double operator()(const Vec& x, Vec& g) const {
    double dx = 0.0;
    const double lt = log_target(x(0), dx);
    g(0) = dx + x(0) / (kPriorSd * kPriorSd);
    return lt - log_normal(x(0), 0.0, kPriorSd);
  }
};
struct Target {
  double operator()(const Vec& x, Vec& g) const {
    double dx = 0.0;
    const double lt = log_target(x(0), dx);
    g(0) = dx;
    return lt;
  }
};

TEST(Bimodal, GradientsMatchFiniteDifferences) {
  for (double x : {-9.0, -0.3, 0.0, 2.0, 8.5}) {
    auto a = check_gradient(Likelihood{}, Vec{x});
    auto b = check_gradient(Target{}, Vec{x});
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_LT(a->max_relative_error, 1e-6);
    EXPECT_LT(b->max_relative_error, 1e-6);
  }
}

// Weighted share of particles in the right-hand mode (x > 0).
double right_share(const Particles& p) {
  double s = 0.0;
  for (std::size_t i = 0; i < p.size(); ++i)
    if (p.positions(i, 0) > 0.0) s += std::exp(p.log_weights(i));
  return s;
}

TEST(Bimodal, SmcRecoversBothModesWithTheirWeights) {
  constexpr std::size_t kN = 2000;
  Options options;
  options.num_mcmc_steps = 5;
  hmc::Params params;
  params.num_integration_steps = 5;
  adaptive_tempered::Sampler sampler(Prior{}, Likelihood{}, hmc::Kernel{}, params, options,
                                     {.target_ess = 0.9});
  for (std::uint64_t seed = 0; seed < 3; ++seed) {
    const Key key = split_one(make_key(555), seed);
    Mat x0 = Mat::from_shape({kN, 1});
    normal(fold_in(key, 0), std::span<double>(x0.data(), kN));
    x0 *= kPriorSd;
    auto state = sampler.init(x0);
    ASSERT_TRUE(state.ok()) << state.status();
    auto result = adaptive_tempered::run(fold_in(key, 1), sampler, *state);
    ASSERT_TRUE(result.ok()) << result.status();
    const auto& p = result->state.particles;
    const double share = right_share(p);
    // Within each mode: mean +-8 and sd 1.
    double m[2] = {0, 0}, w[2] = {0, 0}, v[2] = {0, 0};
    for (std::size_t i = 0; i < p.size(); ++i) {
      const int k = p.positions(i, 0) > 0.0;
      const double wi = std::exp(p.log_weights(i));
      w[k] += wi;
      m[k] += wi * p.positions(i, 0);
      v[k] += wi * p.positions(i, 0) * p.positions(i, 0);
    }
    for (int k = 0; k < 2; ++k) {
      m[k] /= w[k];
      v[k] = v[k] / w[k] - m[k] * m[k];
    }
    std::printf("seed %llu: %zu stages, share right %.4f (0.7), means %.3f %.3f, sds %.3f %.3f, "
                "ess %.0f\n",
                static_cast<unsigned long long>(seed), result->num_stages(), share, m[0], m[1],
                std::sqrt(v[0]), std::sqrt(v[1]), ess(p));
    // Tolerance 0.05: over 8 keys by hand the share was 0.692 - 0.722
    // (sd ~0.013, about the binomial sqrt(0.21 / 2000) = 0.010 plus the
    // tempering's own error).
    EXPECT_NEAR(share, 1.0 - kLeftWeight, 0.05);
    EXPECT_NEAR(m[0], -kMode, 0.2);
    EXPECT_NEAR(m[1], kMode, 0.2);
    EXPECT_NEAR(std::sqrt(v[0]), 1.0, 0.15);
    EXPECT_NEAR(std::sqrt(v[1]), 1.0, 0.15);
  }
}

TEST(Bimodal, ASingleNutsChainFindsOneMode) {
  nuts::Params params;
  params.step_size = 0.5;
  params.inverse_mass_matrix = Metric::identity(1);
  for (std::uint64_t seed = 0; seed < 3; ++seed) {
    auto sampler = nuts::sampler(Target{}, params);
    const Key key = split_one(make_key(556), seed);
    // Start where SMC starts: a draw from the prior.
    auto state = sampler.init(Vec{kPriorSd * normal(fold_in(key, 0))});
    ASSERT_TRUE(state.ok());
    nuts::State s = *state;
    int right = 0;
    constexpr int kDraws = 2000;
    for (int t = 0; t < kDraws; ++t) {
      auto next = sampler.step(fold_in(fold_in(key, 1), t), s);
      ASSERT_TRUE(next.ok());
      s = next->state;
      right += s.position(0) > 0.0;
    }
    const double share = static_cast<double>(right) / kDraws;
    std::printf("nuts chain %llu: share right %.4f\n", static_cast<unsigned long long>(seed), share);
    EXPECT_TRUE(share < 0.01 || share > 0.99) << share;
    EXPECT_GT(std::abs(share - (1.0 - kLeftWeight)), 0.25);
  }
}

}  // namespace
}  // namespace nutshell::smc

// Mean-field and full-rank Gaussian VI on Gaussian targets, where the optimum
// is known: the ELBO gradient against finite differences, then the fitted
// mean and (co)variance against the truth over several keys.
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>

#include <gtest/gtest.h>

#include "nutshell/vi/fullrank_vi.hpp"
#include "nutshell/vi/meanfield_vi.hpp"
#include "tests/vi/gaussian_targets.hpp"

namespace nutshell::vi {
namespace {

using testing::GaussianTarget;

// With the plain (non-STL) estimator and a fixed key, the returned gradient
// is the exact derivative of the Monte Carlo ELBO estimate: check it.
TEST(GaussianVi, MeanfieldElboGradientMatchesFiniteDifferences) {
  GaussianTarget target = testing::correlated_5();
  meanfield::Options options;
  options.stl_estimator = false;
  options.num_samples = 7;
  auto state = meanfield::init(xt::zeros<double>({5}), target, options);
  ASSERT_TRUE(state.ok());
  state->mu = {0.3, -0.2, 0.1, 0.5, -1.0};
  state->rho = {0.1, -0.3, 0.2, 0.0, 0.4};
  const Key key = make_key(3);
  Vec grad;
  ASSERT_TRUE(meanfield::elbo_gradient(key, *state, target, options, grad).ok());
  const double h = 1e-6;
  Vec scratch;
  for (std::size_t k = 0; k < 10; ++k) {
    meanfield::State up = *state, down = *state;
    (k < 5 ? up.mu(k) : up.rho(k - 5)) += h;
    (k < 5 ? down.mu(k) : down.rho(k - 5)) -= h;
    const double fd = -(*meanfield::elbo_gradient(key, up, target, options, scratch) -
                        *meanfield::elbo_gradient(key, down, target, options, scratch)) /
                      (2 * h);
    EXPECT_NEAR(grad(k), fd, 1e-5 * std::max(1.0, std::abs(fd))) << "parameter " << k;
  }
}

TEST(GaussianVi, FullrankElboGradientMatchesFiniteDifferences) {
  GaussianTarget target = testing::correlated_5();
  fullrank::Options options;
  options.stl_estimator = false;
  options.num_samples = 7;
  auto state = fullrank::init(xt::zeros<double>({5}), target, options);
  ASSERT_TRUE(state.ok());
  for (std::size_t k = 0; k < state->chol_params.size(); ++k)
    state->chol_params(k) = 0.1 * std::sin(static_cast<double>(k));
  state->mu = {0.3, -0.2, 0.1, 0.5, -1.0};
  const Key key = make_key(4);
  Vec grad;
  ASSERT_TRUE(fullrank::elbo_gradient(key, *state, target, options, grad).ok());
  const double h = 1e-6;
  Vec scratch;
  for (std::size_t k = 0; k < grad.size(); ++k) {
    fullrank::State up = *state, down = *state;
    (k < 5 ? up.mu(k) : up.chol_params(k - 5)) += h;
    (k < 5 ? down.mu(k) : down.chol_params(k - 5)) -= h;
    const double fd = -(*fullrank::elbo_gradient(key, up, target, options, scratch) -
                        *fullrank::elbo_gradient(key, down, target, options, scratch)) /
                      (2 * h);
    EXPECT_NEAR(grad(k), fd, 1e-5 * std::max(1.0, std::abs(fd))) << "parameter " << k;
  }
}

// The STL estimator has the same expectation: average many keys of both.
TEST(GaussianVi, StlAndPlainEstimatorsAgreeInExpectation) {
  GaussianTarget target = testing::diagonal_10();
  meanfield::Options stl, plain;
  plain.stl_estimator = false;
  stl.num_samples = plain.num_samples = 2000;
  auto state = meanfield::init(xt::zeros<double>({10}), target, stl);
  ASSERT_TRUE(state.ok());
  Vec g_stl, g_plain;
  ASSERT_TRUE(meanfield::elbo_gradient(make_key(1), *state, target, stl, g_stl).ok());
  ASSERT_TRUE(meanfield::elbo_gradient(make_key(2), *state, target, plain, g_plain).ok());
  // Both are means of 2000 draws at sigma = 1; compare within 5 standard
  // errors of the difference. A per-draw term is bounded in sd by
  // precision * (|mu - m| + 2) from g, plus sqrt(2) from STL's eps^2.
  for (std::size_t k = 0; k < 20; ++k) {
    const std::size_t i = k % 10;
    const double sd = target.precision(i, i) * (std::abs(target.mean(i)) + 2.0) + std::sqrt(2.0);
    EXPECT_NEAR(g_stl(k), g_plain(k), 5 * std::sqrt(2.0) * sd / std::sqrt(2000.0)) << k;
  }
}

// The tolerance comes from the gradient estimator's own noise: after the
// stopping rule fires, kExtra more steps are taken and the sd of every
// standardised quantity over them (Adam's jitter around the optimum, driven
// by the Monte Carlo noise of the gradient) is measured. The final value must
// be within 4 such sds (plus a floor of kFloor for the noiseless case, where
// STL's noise vanishes at the optimum) of the truth, and the jitter itself
// must be small (< kMaxJitter), else the tolerance would be meaningless.
constexpr std::size_t kExtra = 300;
constexpr double kFloor = 0.02, kMaxJitter = 0.1;

// Standardised quantities of a fitted q: mu_i / sd_i, then the (co)variances
// over sd_i sd_j; `truth` is the same for the target's optimum.
struct Check {
  double worst_error = 0.0;   // max |final - truth| over quantities
  double worst_ratio = 0.0;   // max |final - truth| / (4 jitter + floor)
  double worst_jitter = 0.0;  // max jitter sd
  std::size_t iterations = 0;
};

template <class Algorithm, class Standardise>
Check fit_and_check(Algorithm vi, std::size_t d, const Vec& truth, Standardise standardise,
                    std::uint64_t seed) {
  Check c;
  auto fit = vi.fit(make_key(seed), xt::zeros<double>({d}));
  EXPECT_TRUE(fit.ok()) << fit.status();
  if (!fit.ok()) return {1e9, 1e9, 1e9, 0};
  EXPECT_TRUE(fit->converged);
  c.iterations = fit->elbo_trace.size();
  auto state = fit->state;
  const Vec final_value = standardise(state);
  Vec sum = xt::zeros<double>({truth.size()}), sum2 = sum;
  const Key extra = make_key(1000 + seed);
  for (std::size_t i = 0; i < kExtra; ++i) {
    auto next = vi.step(fold_in(extra, i), state);
    EXPECT_TRUE(next.ok());
    if (!next.ok()) return {1e9, 1e9, 1e9, 0};
    state = next->state;
    const Vec v = standardise(state);
    sum += v;
    sum2 += v * v;
  }
  for (std::size_t k = 0; k < truth.size(); ++k) {
    const double m = sum(k) / kExtra;
    const double jitter = std::sqrt(std::max(0.0, sum2(k) / kExtra - m * m));
    const double error = std::abs(final_value(k) - truth(k));
    c.worst_error = std::max(c.worst_error, error);
    c.worst_jitter = std::max(c.worst_jitter, jitter);
    c.worst_ratio = std::max(c.worst_ratio, error / (4.0 * jitter + kFloor));
  }
  return c;
}

// Mean-field's optimum on a Gaussian: the true mean and variances 1 / P_ii.
Check meanfield_check(const GaussianTarget& t, std::uint64_t seed) {
  const std::size_t d = t.mean.size();
  Vec truth = Vec::from_shape({2 * d});
  for (std::size_t i = 0; i < d; ++i) {
    truth(i) = t.mean(i) / std::sqrt(t.covariance(i, i));
    truth(d + i) = 1.0 / t.precision(i, i) / t.covariance(i, i);
  }
  auto standardise = [&](const meanfield::State& s) {
    Vec v = Vec::from_shape({2 * d});
    const Vec var = meanfield::variances(s);
    for (std::size_t i = 0; i < d; ++i) {
      v(i) = s.mu(i) / std::sqrt(t.covariance(i, i));
      v(d + i) = var(i) / t.covariance(i, i);
    }
    return v;
  };
  return fit_and_check(meanfield_vi(t), d, truth, standardise, seed);
}

// Full-rank's optimum is the target itself.
Check fullrank_check(const GaussianTarget& t, std::uint64_t seed) {
  const std::size_t d = t.mean.size();
  Vec truth = Vec::from_shape({d + d * d});
  auto sd = [&](std::size_t i) { return std::sqrt(t.covariance(i, i)); };
  for (std::size_t i = 0; i < d; ++i) {
    truth(i) = t.mean(i) / sd(i);
    for (std::size_t j = 0; j < d; ++j) truth(d + i * d + j) = t.covariance(i, j) / (sd(i) * sd(j));
  }
  auto standardise = [&](const fullrank::State& s) {
    Vec v = Vec::from_shape({d + d * d});
    const Mat cov = fullrank::covariance(s);
    for (std::size_t i = 0; i < d; ++i) {
      v(i) = s.mu(i) / sd(i);
      for (std::size_t j = 0; j < d; ++j) v(d + i * d + j) = cov(i, j) / (sd(i) * sd(j));
    }
    return v;
  };
  return fit_and_check(fullrank_vi(t), d, truth, standardise, seed);
}

void expect_good(const char* what, const Check& c, std::uint64_t seed) {
  std::printf("%s seed %lu: worst error %.4f, worst jitter sd %.4f, error/(4 jitter + floor) %.3f, "
              "%zu iterations\n",
              what, seed, c.worst_error, c.worst_jitter, c.worst_ratio, c.iterations);
  EXPECT_LT(c.worst_ratio, 1.0) << what << " seed " << seed;
  EXPECT_LT(c.worst_jitter, kMaxJitter) << what << " seed " << seed;
}

TEST(GaussianVi, MeanfieldRecoversDiagonalGaussian) {
  for (std::uint64_t seed = 1; seed <= 3; ++seed)
    expect_good("meanfield diag10", meanfield_check(testing::diagonal_10(), seed), seed);
}

TEST(GaussianVi, MeanfieldOnCorrelatedGaussianGivesConditionalVariances) {
  for (std::uint64_t seed = 1; seed <= 3; ++seed)
    expect_good("meanfield corr5", meanfield_check(testing::correlated_5(), seed), seed);
}

TEST(GaussianVi, FullrankRecoversCorrelatedGaussian) {
  for (std::uint64_t seed = 1; seed <= 3; ++seed)
    expect_good("fullrank corr5", fullrank_check(testing::correlated_5(), seed), seed);
}

TEST(GaussianVi, FullrankRecoversDiagonalGaussian) {
  for (std::uint64_t seed = 1; seed <= 2; ++seed)
    expect_good("fullrank diag10", fullrank_check(testing::diagonal_10(), seed), seed);
}

TEST(GaussianVi, BadInputIsAStatus) {
  // Finite only on x_0 > 0: the start at x_0 = -1 is refused...
  auto half = [](const Vec& x, Vec& g) {
    g = -x;
    return x(0) > 0 ? -0.5 * xt::sum(x * x)() : -std::numeric_limits<double>::infinity();
  };
  auto bad_start = meanfield_vi(half).fit(make_key(1), Vec{-1.0, 0.0});
  ASSERT_FALSE(bad_start.ok());
  EXPECT_EQ(bad_start.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(fullrank_vi(half).fit(make_key(1), Vec{std::nan(""), 0.0}).ok());
  // ...and from x_0 = 0.5 q puts mass on x_0 < 0 at once: a non-finite ELBO
  // is an error naming the iteration, never NaN parameters.
  for (auto fit : {meanfield_vi(half).fit(make_key(1), Vec{0.5, 0.0}).status(),
                   fullrank_vi(half).fit(make_key(1), Vec{0.5, 0.0}).status()}) {
    EXPECT_EQ(fit.code(), absl::StatusCode::kInvalidArgument) << fit;
    EXPECT_NE(fit.message().find("non-finite"), std::string::npos) << fit;
    EXPECT_NE(fit.message().find("iteration 0"), std::string::npos) << fit;
  }
  // A throwing density: its message comes back.
  auto throws = [](const Vec& x, Vec& g) -> double {
    g = -x;
    if (x(0) > 3.0) throw std::runtime_error("too far");
    return -0.5 * xt::sum(x * x)();
  };
  auto thrown = meanfield_vi(throws).fit(make_key(1), Vec{2.5, 0.0});
  ASSERT_FALSE(thrown.ok());
  EXPECT_NE(thrown.status().message().find("too far"), std::string::npos) << thrown.status();
}

}  // namespace
}  // namespace nutshell::vi

// `sample` with the kernels that have no step size and acceptance rate for
// window adaptation (rmh, irmh, slice, elliptical slice, sgld, sghmc), and
// Warmup::kNone with any kernel: each recovers a known answer (mean within
// 4 MCSE, sd within 10%) through one `sample` call, and its warmup moved
// the tuned parameter where it should. Keys were checked by hand over 5
// seeds each.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>

#include "absl/status/status.h"
#include "nutshell/mcmc/elliptical_slice.hpp"
#include "nutshell/mcmc/irmh.hpp"
#include "nutshell/mcmc/nuts.hpp"
#include "nutshell/mcmc/rmh.hpp"
#include "nutshell/mcmc/slice.hpp"
#include "nutshell/run/sample.hpp"
#include "nutshell/sgmcmc/sghmc.hpp"
#include "nutshell/sgmcmc/sgld.hpp"
#include "tests/support/gaussian.hpp"

namespace nutshell {
namespace {

using testing::Gaussian;

std::uint64_t seed_offset() {
  const char* s = std::getenv("NUTSHELL_SEED_OFFSET");  // for trying keys by hand
  return s ? std::strtoull(s, nullptr, 10) : 0;
}
Key key(std::uint64_t k) { return make_key(k + 1000 * seed_offset()); }

SampleOptions opts(std::size_t warmup, std::size_t samples) {
  SampleOptions o;
  o.num_chains = 4;
  o.num_warmup = warmup;
  o.num_samples = samples;
  o.progress_bar = false;
  return o;
}

// Mean within 4 MCSE and sd within 10% of the truth, per coordinate.
template <class D>
void expect_moments(const D& d, const Vec& mean, const Vec& sd) {
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_TRUE(d->status.ok()) << d->status;
  ASSERT_TRUE(d->summary.ok()) << d->summary.status();
  for (std::size_t j = 0; j < mean.size(); ++j) {
    const auto& r = d->summary->rows[j];
    EXPECT_LT(std::abs(r.mean - mean(j)), 4.0 * r.sd / std::sqrt(r.ess_bulk)) << r.name;
    EXPECT_LT(std::abs(r.sd / sd(j) - 1.0), 0.10) << r.name << " sd " << r.sd;
  }
}

// The mean of a per-draw statistic over every chain and draw.
template <class D>
double mean_stat(const D& d, const char* name) {
  const long k = d->sample_stats.index(name);
  EXPECT_GE(k, 0) << name;
  double s = 0.0;
  const std::size_t m = d->sample_stats.values.shape(0), n = d->sample_stats.values.shape(1);
  for (std::size_t c = 0; c < m; ++c)
    for (std::size_t i = 0; i < n; ++i) s += d->sample_stats.values(c, i, k);
  return s / static_cast<double>(m * n);
}

// N((1, -1, 2), diag(0.1, 1, 10)^2): scales a random walk must learn.
Gaussian scaled_3d() {
  Mat cov = {{0.01, 0.0, 0.0}, {0.0, 1.0, 0.0}, {0.0, 0.0, 100.0}};
  return Gaussian(Vec{1.0, -1.0, 2.0}, cov);
}

TEST(SampleGradientFree, RmhTunesItsScaleTowards0234AndItsMetricToTheVariances) {
  auto d = sample(key(11), rmh::Kernel{}, scaled_3d(), Vec{0.0, 0.0, 0.0}, opts(2000, 4000));
  ASSERT_NO_FATAL_FAILURE(expect_moments(d, Vec{1.0, -1.0, 2.0}, Vec{0.1, 1.0, 10.0}));
  const double acc = mean_stat(d, "acceptance_rate");
  EXPECT_GT(acc, 0.18);
  EXPECT_LT(acc, 0.30);
  // In whitened coordinates the optimal scale is about 2.38 / sqrt(3) = 1.37.
  for (const auto& p : d->params) {
    EXPECT_GT(p.step_size, 0.8);
    EXPECT_LT(p.step_size, 3.0);
    const Vec& v = p.inverse_mass_matrix.inverse_mass_diagonal();
    EXPECT_NEAR(v(0) / 0.01, 1.0, 0.5);
    EXPECT_NEAR(v(2) / 100.0, 1.0, 0.5);
  }
}

TEST(SampleGradientFree, RmhWithADenseMetricLearnsTheCovariance) {
  SampleOptions o = opts(1000, 2000);
  o.metric = MetricKind::kDense;
  auto d = sample(key(12), rmh::Kernel{}, Gaussian::correlated_2d(), Vec{0.0, 0.0}, o);
  ASSERT_NO_FATAL_FAILURE(expect_moments(d, Vec{0.0, 3.0}, Vec{1.0, 2.0}));
  const Mat& cov = d->params[0].inverse_mass_matrix.inverse_mass_matrix();
  EXPECT_NEAR(cov(0, 1) / 1.5, 1.0, 0.5);  // the correlation was learnt
  const double acc = mean_stat(d, "acceptance_rate");
  EXPECT_GT(acc, 0.18);
  EXPECT_LT(acc, 0.30);
}

// An independent Gaussian proposal wider than the target (const methods).
struct WideGaussian {
  Vec mean{Vec{0.0, 3.0}};
  Vec sd{Vec{2.0, 4.0}};
  void sample(const Key& k, Vec& out) const {
    normal(k, out);
    for (std::size_t j = 0; j < 2; ++j) out(j) = mean(j) + sd(j) * out(j);
  }
  double log_density(const Vec& x) const {
    double s = 0.0;
    for (std::size_t j = 0; j < 2; ++j) s -= 0.5 * std::pow((x(j) - mean(j)) / sd(j), 2);
    return s;
  }
};

TEST(SampleGradientFree, IrmhBurnsInWithTheUsersProposal) {
  auto d = sample(key(13), irmh::Kernel{}, Gaussian::correlated_2d(), WideGaussian{},
                  Vec{0.0, 0.0}, opts(200, 2000));
  ASSERT_NO_FATAL_FAILURE(expect_moments(d, Vec{0.0, 3.0}, Vec{1.0, 2.0}));
  EXPECT_GT(d->accounting[0].gradient_evaluations_warmup, 0u);
}

TEST(SampleGradientFree, SliceTunesEachWidthToItsScale) {
  auto d = sample(key(14), slice::Kernel{}, scaled_3d(), Vec{0.0, 0.0, 0.0}, opts(500, 1000));
  ASSERT_NO_FATAL_FAILURE(expect_moments(d, Vec{1.0, -1.0, 2.0}, Vec{0.1, 1.0, 10.0}));
  for (const auto& p : d->params) {
    ASSERT_EQ(p.width.size(), 3u);
    EXPECT_NEAR(p.width(0) / 0.1, 1.0, 0.3);
    EXPECT_NEAR(p.width(2) / 10.0, 1.0, 0.3);
  }
}

TEST(SampleGradientFree, EllipticalSliceBurnsInWithThePrior) {
  // Prior N(0, 4 I), likelihood N(y | x, I): posterior N(0.8 y, 0.8 I).
  auto prior = elliptical_slice::GaussianPrior::diagonal(Vec{0.0, 0.0}, Vec{4.0, 4.0});
  ASSERT_TRUE(prior.ok());
  Gaussian likelihood(Vec{1.0, 2.0}, Mat{{1.0, 0.0}, {0.0, 1.0}});
  auto d = sample(key(15), elliptical_slice::Kernel{}, likelihood, *prior, Vec{0.0, 0.0},
                  opts(200, 1500));
  const double s = std::sqrt(0.8);
  ASSERT_NO_FATAL_FAILURE(expect_moments(d, Vec{0.8, 1.6}, Vec{s, s}));
  EXPECT_TRUE(std::isfinite(d->logdensity(0, 0)));  // the log-likelihood
}

// The exact gradient of N(mu, diag(s^2)), as an estimator.
struct ExactGradient {
  Vec mu{Vec{1.0, -2.0}};
  Vec s{Vec{1.0, 0.7}};
  template <class W>
  absl::Status estimate(const Key&, const Vec& x, Vec& g, W&) const {
    for (std::size_t j = 0; j < 2; ++j) g(j) = -(x(j) - mu(j)) / (s(j) * s(j));
    return absl::OkStatus();
  }
};

TEST(SampleGradientFree, SgldBurnsInAlongItsScheduleAndSamplingContinuesIt) {
  sgld::Params<sgmcmc::ConstantStepSize> params{.step_size = {0.05}};
  SampleOptions o = opts(500, 10000);
  auto d = sample(key(16), sgld::Kernel{}, ExactGradient{}, params, Vec{0.0, 0.0}, o);
  ASSERT_NO_FATAL_FAILURE(expect_moments(d, Vec{1.0, -2.0}, Vec{1.0, 0.7}));
  EXPECT_EQ(d->checkpoints[0].state.step, 10500u);
  EXPECT_EQ(d->accounting[0].gradient_evaluations_warmup, 500u);
  EXPECT_DOUBLE_EQ(d->accounting[0].step_size, 0.05);
}

TEST(SampleGradientFree, SghmcFollowsADecayingSchedule) {
  sgmcmc::PolynomialDecay decay{.a = 0.4, .b = 100.0, .gamma = 0.3};
  sghmc::Params<sgmcmc::PolynomialDecay> params{.step_size = decay, .num_integration_steps = 20};
  auto d = sample(key(17), sghmc::build_kernel(0.5), ExactGradient{}, params, Vec{0.0, 0.0},
                  opts(300, 2000));
  ASSERT_NO_FATAL_FAILURE(expect_moments(d, Vec{1.0, -2.0}, Vec{1.0, 0.7}));
  EXPECT_DOUBLE_EQ(d->accounting[0].step_size, decay(300));  // where sampling started
}

TEST(SampleGradientFree, WarmupNoneBurnsInWithTheGivenParameters) {
  SampleOptions o = opts(200, 1000);
  o.warmup = Warmup::kNone;
  nuts::Params params;
  params.step_size = 0.7;
  params.inverse_mass_matrix = *Metric::diagonal(Vec{1.0, 4.0});
  auto d = sample(key(18), nuts::Kernel{}, Gaussian::correlated_2d(), params, Vec{0.0, 0.0}, o);
  ASSERT_NO_FATAL_FAILURE(expect_moments(d, Vec{0.0, 3.0}, Vec{1.0, 2.0}));
  EXPECT_EQ(d->params[0].step_size, 0.7);  // untouched
  EXPECT_EQ(d->accounting[0].gradient_evaluations_step_size_search, 0u);
  // Without parameters: the initial step size and the identity metric.
  o.adaptation.initial_step_size = 0.3;
  auto e = sample(key(19), nuts::Kernel{}, Gaussian::correlated_2d(), Vec{0.0, 0.0}, o);
  ASSERT_NO_FATAL_FAILURE(expect_moments(e, Vec{0.0, 3.0}, Vec{1.0, 2.0}));
  EXPECT_EQ(e->params[0].step_size, 0.3);
  EXPECT_EQ(e->params[0].inverse_mass_matrix.kind(), Metric::Kind::kIdentity);
}

TEST(SampleGradientFree, FisherWarmupOfAKernelWithoutAStepSizeIsAnError) {
  SampleOptions o = opts(100, 100);
  o.warmup = Warmup::kFisherDiagonal;
  auto d = sample(key(20), slice::Kernel{}, scaled_3d(), Vec{0.0, 0.0, 0.0}, o);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument) << d.status();
}

}  // namespace
}  // namespace nutshell

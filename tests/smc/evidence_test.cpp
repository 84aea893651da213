// The log marginal likelihood (evidence) of conjugate models: the mean of
// 20 independent runs is within 3 standard errors of the exact value, the
// standard error estimated from the spread of the runs. Covers adaptive
// tempering with HMC, waste-free SMC with MALA, and a fixed schedule with
// NUTS.
#include <cmath>
#include <cstdio>
#include <vector>

#include <gtest/gtest.h>

#include "nutshell/core/logdensity.hpp"
#include "nutshell/mcmc/hmc.hpp"
#include "nutshell/mcmc/mala.hpp"
#include "nutshell/mcmc/nuts.hpp"
#include "nutshell/smc/adaptive_tempered.hpp"
#include "nutshell/smc/tempered.hpp"
#include "tests/smc/conjugate_models.hpp"

namespace nutshell::smc {
namespace {

using testing::BetaBinomial;
using testing::NormalNormal;

constexpr int kRuns = 20;

struct Spread {
  double mean = 0.0, sd = 0.0, se = 0.0;
};
Spread spread(const std::vector<double>& x) {
  Spread s;
  for (double v : x) s.mean += v;
  s.mean /= x.size();
  for (double v : x) s.sd += (v - s.mean) * (v - s.mean);
  s.sd = std::sqrt(s.sd / (x.size() - 1));
  s.se = s.sd / std::sqrt(static_cast<double>(x.size()));
  return s;
}

void expect_within_3_se(const char* name, const std::vector<double>& estimates, double exact) {
  const Spread s = spread(estimates);
  std::printf("%s: exact log Z %.4f, mean of %d runs %.4f, sd %.4f, se %.4f, error %.2f se\n",
              name, exact, kRuns, s.mean, s.sd, s.se, (s.mean - exact) / s.se);
  EXPECT_LT(std::abs(s.mean - exact), 3.0 * s.se) << name;
  EXPECT_GT(s.sd, 0.0) << name << ": runs with different keys must differ";
  EXPECT_LT(s.sd, 0.5) << name << ": the estimate should be precise at this particle count";
}

TEST(Evidence, GradientsOfTheTestModelsMatchFiniteDifferences) {
  const auto nn = NormalNormal::make(2, 10, 11);
  const BetaBinomial bb;
  Vec x = {0.3, -1.2}, z = {0.7};
  for (auto r : {check_gradient(nn.prior(), x), check_gradient(nn.likelihood(), x),
                 check_gradient(bb.prior(), z), check_gradient(bb.likelihood(), z)}) {
    ASSERT_TRUE(r.ok());
    EXPECT_LT(r->max_relative_error, 1e-6);
  }
}

TEST(Evidence, NormalNormalAdaptiveTemperedHmc) {
  const auto model = NormalNormal::make(2, 10, 11);
  Options options;
  options.num_mcmc_steps = 5;
  hmc::Params params;
  params.num_integration_steps = 5;
  adaptive_tempered::Sampler sampler(model.prior(), model.likelihood(), hmc::Kernel{}, params,
                                     options, {.target_ess = 0.5});
  std::vector<double> log_z;
  for (int r = 0; r < kRuns; ++r) {
    const Key key = split_one(make_key(2024), r);
    auto state = sampler.init(model.prior_draws(fold_in(key, 0), 500));
    ASSERT_TRUE(state.ok()) << state.status();
    auto result = adaptive_tempered::run(fold_in(key, 1), sampler, *state);
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->state.tempering_param, 1.0);
    for (double e : result->ess) EXPECT_GT(e, 0.2 * 500);
    log_z.push_back(result->state.log_marginal_likelihood);
    if (r == 0) {
      const Vec mean = weighted_mean(result->state.particles);
      const Vec truth = model.posterior_mean();
      const double sd = 1.0 / std::sqrt(model.posterior_precision());
      for (std::size_t j = 0; j < 2; ++j) EXPECT_NEAR(mean(j), truth(j), 4.0 * sd / std::sqrt(100.0));
      std::printf("normal-normal: %zu stages, last acceptance %.2f\n", result->num_stages(),
                  result->acceptance_rates.back());
    }
  }
  expect_within_3_se("normal-normal, adaptive, hmc", log_z, model.log_evidence());
}

TEST(Evidence, BetaBinomialWasteFreeMala) {
  const BetaBinomial model;
  Options options;
  options.waste_free_chains = 100;  // 100 chains of 10 states: N = 1000
  options.tuning.dim_exponent = 1.0 / 3.0;
  options.tuning.target_acceptance = 0.574;
  adaptive_tempered::Sampler sampler(model.prior(), model.likelihood(), mala::Kernel{},
                                     mala::Params{}, options, {.target_ess = 0.5});
  std::vector<double> log_z;
  double theta_mean = 0.0;
  for (int r = 0; r < kRuns; ++r) {
    const Key key = split_one(make_key(77), r);
    auto state = sampler.init(model.prior_draws(fold_in(key, 0), 1000));
    ASSERT_TRUE(state.ok()) << state.status();
    auto result = adaptive_tempered::run(fold_in(key, 1), sampler, *state);
    ASSERT_TRUE(result.ok()) << result.status();
    log_z.push_back(result->state.log_marginal_likelihood);
    const auto& p = result->state.particles;
    double m = 0.0;
    for (std::size_t i = 0; i < p.size(); ++i)
      m += std::exp(p.log_weights(i)) / (1.0 + std::exp(-p.positions(i, 0)));
    theta_mean += m / kRuns;
  }
  expect_within_3_se("beta-binomial, waste-free, mala", log_z, model.log_evidence());
  EXPECT_NEAR(theta_mean, model.posterior_mean_theta(), 0.01);
}

TEST(Evidence, NormalNormalFixedScheduleNuts) {
  const auto model = NormalNormal::make(2, 10, 11);
  Options options;
  options.num_mcmc_steps = 3;
  options.resampling = Resampling::kStratified;
  options.tuning.target_acceptance = 0.8;
  tempered::Sampler sampler(model.prior(), model.likelihood(), nuts::Kernel{}, nuts::Params{},
                            options);
  std::vector<double> schedule;
  for (int s = 1; s <= 12; ++s) schedule.push_back(std::pow(10.0, -3.0 + 3.0 * s / 12.0));
  schedule.back() = 1.0;
  std::vector<double> log_z;
  for (int r = 0; r < kRuns; ++r) {
    const Key key = split_one(make_key(99), r);
    auto state = sampler.init(model.prior_draws(fold_in(key, 0), 400));
    ASSERT_TRUE(state.ok()) << state.status();
    auto result = tempered::run(fold_in(key, 1), sampler, *state, schedule);
    ASSERT_TRUE(result.ok()) << result.status();
    log_z.push_back(result->state.log_marginal_likelihood);
  }
  expect_within_3_se("normal-normal, fixed schedule, nuts", log_z, model.log_evidence());
}

}  // namespace
}  // namespace nutshell::smc

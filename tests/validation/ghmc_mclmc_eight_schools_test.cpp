// GHMC and MCLMC on eight_schools_nc against the reference posterior means
// (rstan, 4 x 10 000 draws), on the unconstrained scale (mu, log_tau,
// theta_raw[1..8]). The comparison allows 4 combined standard errors,
// sqrt(mcse^2 + mcse_ref^2), plus, for the unadjusted MCLMC, the stated bias
// bound of mclmc_bias.hpp in units of the reference sd.
#include <cmath>
#include <cstdio>

#include <gtest/gtest.h>

#include "nutshell/mcmc/ghmc.hpp"
#include "nutshell/mcmc/mclmc.hpp"
#include "nutshell/adaptation/mclmc_tuning.hpp"
#include "nutshell/run/scan.hpp"
#include "tests/support/mclmc_bias.hpp"
#include "tests/posteriors/posteriors.hpp"
#include "tests/support/moments.hpp"

namespace nutshell {
namespace {

using posteriors::EightSchoolsNc;

void expect_means(const Mat& draws, const posteriors::Reference& ref, double bias_sd,
                  const char* label) {
  for (std::size_t j = 0; j < ref.mean.size(); ++j) {
    const auto m = testing::batch_means(testing::column(draws, j));
    const double se = std::hypot(m.mcse, ref.mcse_mean(j));
    const double tolerance = 4.0 * se + bias_sd * ref.sd(j);
    std::printf("%s %-12s %+.4f vs %+.4f (se %.4f, tolerance %.4f)\n", label, ref.names[j].c_str(),
                m.mean, ref.mean(j), se, tolerance);
    EXPECT_LT(std::abs(m.mean - ref.mean(j)), tolerance) << label << " " << ref.names[j];
  }
}

class EightSchools : public ::testing::Test {
 protected:
  void SetUp() override {
    auto model = EightSchoolsNc::load();
    ASSERT_TRUE(model.ok()) << model.status();
    model_.emplace(*std::move(model));
    auto ref = model_->reference();
    ASSERT_TRUE(ref.ok()) << ref.status();
    ref_ = *std::move(ref);
  }
  std::optional<EightSchoolsNc> model_;
  posteriors::Reference ref_;
};

TEST_F(EightSchools, GhmcRecoversReferenceMeans) {
  // Metric from the reference sds (what warmup would estimate); one leapfrog
  // step of 0.35 per transition, persistence sqrt(1 - 0.1) = 0.95.
  auto metric = Metric::diagonal(ref_.sd * ref_.sd);
  ASSERT_TRUE(metric.ok());
  auto alg = ghmc::sampler(*model_, ghmc::Params{0.35, *metric, 0.1, 0.05});
  auto init = alg.init(model_->initial_point(), make_key(1));
  ASSERT_TRUE(init.ok());
  auto burn = run_inference_algorithm(make_key(2), alg, *init, 5000);
  ASSERT_TRUE(burn.ok()) << burn.status();
  auto run = run_inference_algorithm(make_key(3), alg, burn->final_state, 200000);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_LT(run->num_divergent, 20u);
  expect_means(run->positions, ref_, 0.0, "ghmc");
}

TEST_F(EightSchools, MclmcRecoversReferenceMeansWithinBiasBound) {
  const std::size_t n = 100000;
  auto state = mclmc::init(model_->initial_point(), *model_, make_key(4));
  ASSERT_TRUE(state.ok());
  const auto kernel = mclmc::build_kernel();
  auto tuned = mclmc_find_L_and_step_size(make_key(5), kernel, *model_, *state, n);
  ASSERT_TRUE(tuned.ok()) << tuned.status();
  auto alg = mclmc::sampler(*model_, tuned->params, kernel);
  auto run = run_inference_algorithm(make_key(6), alg, tuned->state, n);
  ASSERT_TRUE(run.ok()) << run.status();
  std::size_t nans = 0;
  for (const auto& i : run->infos) nans += !i.nonans;
  EXPECT_LT(nans, n / 1000);
  const std::size_t dim = model_->dim();
  const double eevpd = testing::energy_variance_per_dim(run->infos, dim);
  const double bound = testing::mclmc_bias_bound(eevpd, dim);
  std::printf("mclmc: step %.3f L %.3f EEVPD %.2e bias bound %.3f sd\n", tuned->params.step_size,
              tuned->params.L, eevpd, bound);
  // Where the tuning lands is very key-dependent here: the energy errors are
  // heavy-tailed, the predictor averages them with a memory of ~n_eff = 150
  // steps, and EEVPD ~ step^6 amplifies the step's spread six-fold. Over 20
  // keys with each of two normal generators (40 runs) the sampling EEVPD
  // ranged from 1e-5 to 3e-2 around the 5e-4 target (log10 mean -2.95, sd
  // 0.85), so no useful bound on EEVPD holds for every key; the bias bound
  // above is computed from the measured EEVPD instead, and the means check
  // held in all 40 runs. The tuned parameters themselves are checked at 4 sd of
  // that spread: log step size mean 0.232 (step 1.26), sd 0.22, so
  // [0.52, 3.07]; log L mean 1.215 (L 3.37), sd 0.03, so [2.99, 3.80].
  EXPECT_GT(tuned->params.step_size, 0.52);
  EXPECT_LT(tuned->params.step_size, 3.07);
  EXPECT_GT(tuned->params.L, 2.99);
  EXPECT_LT(tuned->params.L, 3.80);
  expect_means(run->positions, ref_, bound, "mclmc");
}

}  // namespace
}  // namespace nutshell

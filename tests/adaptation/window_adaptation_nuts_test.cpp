// Window adaptation driving NUTS: the kernel is untouched, adaptation reads
// only Info::acceptance_rate (Stan's accept_stat__) and the new position.
// NUTS's statistic averages over the whole trajectory, so the window chains
// are less sticky than fixed-L HMC's and the adapted variances are nearly
// unbiased (20 seeds: mean ratio 0.99, worst coordinate 0.26 off).
#include <cmath>
#include <functional>

#include <gtest/gtest.h>
#include <xtensor-blas/xlinalg.hpp>

#include "nutshell/adaptation/window_adaptation.hpp"
#include "nutshell/mcmc/nuts.hpp"
#include "nutshell/run/scan.hpp"
#include "tests/support/gaussian.hpp"
#include "tests/support/moments.hpp"

namespace nutshell::adaptation {
namespace {

using testing::Gaussian;

TEST(WindowAdaptationNuts, AdaptsDiagonalMetricAndStepSizeOn10dScales) {
  Gaussian target = Gaussian::scales_10d();
  auto warmup = window_adaptation(nuts::Kernel{}, std::ref(target));
  static_assert(std::is_same_v<decltype(warmup)::Params, nuts::Params>);
  auto result = warmup.run(make_key(11), xt::ones<double>({10}), 1000);
  ASSERT_TRUE(result.ok()) << result.status();
  const nuts::Params& p = result->parameters;
  double worst = 0.0, ss = 0.0;
  for (std::size_t i = 0; i < 10; ++i) {
    const double rel = p.inverse_mass_matrix.inverse_mass_diagonal()(i) / target.covariance()(i, i) - 1.0;
    EXPECT_LT(std::abs(rel), 0.35) << "coordinate " << i;
    worst = std::max(worst, std::abs(rel));
    ss += rel * rel;
  }
  EXPECT_LT(std::sqrt(ss / 10.0), 0.2);
  double term = 0.0;
  std::size_t divergent = 0;
  for (std::size_t i = 950; i < 1000; ++i) term += result->infos[i].info.acceptance_rate / 50.0;
  for (const auto& i : result->infos) divergent += i.info.is_divergent;
  EXPECT_NEAR(term, 0.8, 0.1);
  auto sampler = nuts::sampler(std::ref(target), p);
  auto run = run_inference_algorithm(make_key(111), sampler, result->state, 2000);
  ASSERT_TRUE(run.ok()) << run.status();
  double acceptance = 0.0;
  for (const auto& i : run->infos) acceptance += i.acceptance_rate / run->infos.size();
  // Sampling with the final step size exp(x-bar) accepts more than the 0.8
  // that dual averaging's iterates target: exp(x-bar) lands below the
  // iterates that averaged 0.8 (a known property of Stan's scheme; fixed-L
  // HMC after this warmup sits at 0.86-0.91 too). Measured over 20
  // keys with each of two normal generators (40 runs): mean 0.883, sd 0.017,
  // range 0.841-0.907. The check is that mean +- 4 sd: it fails for a
  // mis-targeted adaptation (e.g. target 0.65, or a step left unadapted) and
  // does not depend on the key.
  EXPECT_NEAR(acceptance, 0.88, 0.07);
  EXPECT_EQ(run->num_divergent, 0u);
  testing::expect_moments(run->positions, target.mean(), xt::diagonal(target.covariance()), 4.0,
                          "nuts after window adaptation");
  std::printf("nuts 10-D: step size %.4f, max |var/true - 1| %.3f, acceptance %.3f, "
              "warmup divergences %zu\n",
              p.step_size, worst, acceptance, divergent);
}

TEST(WindowAdaptationNuts, AdaptsDenseMetricOnCorrelated2d) {
  Gaussian target = Gaussian::correlated_2d();
  WindowAdaptationOptions options;
  options.is_mass_matrix_diagonal = false;
  auto result = window_adaptation(nuts::Kernel{}, std::ref(target), options)
                    .run(make_key(12), Vec{1.0, 1.0}, 1000);
  ASSERT_TRUE(result.ok()) << result.status();
  const Mat& a = result->parameters.inverse_mass_matrix.inverse_mass_matrix();
  ASSERT_EQ(result->parameters.inverse_mass_matrix.kind(), Metric::Kind::kDense);
  const Mat& cov = target.covariance();
  const auto eig = xt::linalg::eigvals(xt::linalg::dot(xt::linalg::inv(cov), a));
  for (std::size_t k = 0; k < 2; ++k) {
    EXPECT_GT(std::real(eig(k)), 0.5);
    EXPECT_LT(std::real(eig(k)), 1.5);
  }
  auto sampler = nuts::sampler(std::ref(target), result->parameters);
  auto run = run_inference_algorithm(make_key(112), sampler, result->state, 2000);
  ASSERT_TRUE(run.ok());
  testing::expect_moments(run->positions, target.mean(), xt::diagonal(cov), 4.0, "dense nuts");
  std::printf("nuts dense 2-D: step size %.4f, M^-1 = [[%.3f, %.3f], [%.3f, %.3f]]\n",
              result->parameters.step_size, a(0, 0), a(0, 1), a(1, 0), a(1, 1));
}

// Stan's term_buffer = 0 bug gives NUTS step size exactly 1 here.
TEST(WindowAdaptationNuts, ZeroTermBufferKeepsTheAdaptedStepSize) {
  Gaussian target = Gaussian::scales_10d();
  WindowAdaptationOptions options;
  options.schedule.term_buffer = 0;
  auto zero = window_adaptation(nuts::Kernel{}, std::ref(target), options)
                  .run(make_key(13), xt::ones<double>({10}), 1000);
  auto standard = window_adaptation(nuts::Kernel{}, std::ref(target))
                      .run(make_key(13), xt::ones<double>({10}), 1000);
  ASSERT_TRUE(zero.ok() && standard.ok());
  EXPECT_NE(zero->parameters.step_size, 1.0);
  const double ratio = zero->parameters.step_size / standard->parameters.step_size;
  EXPECT_GT(ratio, 0.67);
  EXPECT_LT(ratio, 1.5);
}

}  // namespace
}  // namespace nutshell::adaptation

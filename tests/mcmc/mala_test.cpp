#include "nutshell/mcmc/mala.hpp"

#include <cmath>

#include <gtest/gtest.h>

#include "nutshell/run/scan.hpp"
#include "tests/support/alloc_counter.hpp"
#include "tests/support/gaussian.hpp"
#include "tests/support/moments.hpp"

namespace nutshell {
namespace {

using testing::Gaussian;

TEST(Mala, CorrelatedGaussian) {
  Gaussian target = Gaussian::correlated_2d();
  auto alg = mala::sampler(target, mala::Params{0.4});
  auto init = alg.init(Vec{0.0, 3.0});
  ASSERT_TRUE(init.ok());
  auto run = run_inference_algorithm(make_key(1), alg, *init, 40000);
  ASSERT_TRUE(run.ok()) << run.status();
  testing::expect_moments(run->positions, target.mean(), xt::diagonal(target.covariance()), 4.0,
                          "mala 2d");
}

TEST(Mala, TenDimensionalScales) {
  // Without preconditioning the step is limited by the smallest scale (0.1)
  // and the largest (10) mixes slowly. MALA with step h approximates Langevin
  // diffusion for time h per step, under which a coordinate of sd s is an OU
  // process with relaxation time s^2: for s = 10 that is s^2 / h = 12 500
  // steps, an integrated autocorrelation time of ~25 000 steps for x and
  // ~12 500 for x^2. Batch means is only valid when batches are several
  // autocorrelation times long, so the run is sized for that: 6.4M steps
  // thinned by 1600 give 4000 draws, i.e. 63 batches of 63 x 1600 = 100 800
  // steps (4 IACTs of x, 8 of x^2). The sd-10 coordinate then has ESS ~512
  // for its variance, a relative MCSE of sqrt(2 / 512) = 6%, so the 25%
  // relative check below is also a 4-MCSE check. (At 800 000 steps thinned by
  // 100 the batches were 8 900 steps, shorter than the autocorrelation time:
  // batch means underestimated the MCSE and the test passed or failed with
  // the key.)
  Gaussian target = Gaussian::scales_10d();
  auto alg = mala::sampler(target, mala::Params{0.008});
  auto init = alg.init(xt::zeros<double>({10}));
  ASSERT_TRUE(init.ok());
  auto run = run_inference_algorithm(make_key(2), alg, *init, 6400000, RunOptions{.thinning = 1600});
  ASSERT_TRUE(run.ok());
  testing::expect_moments(run->positions, target.mean(), xt::diagonal(target.covariance()), 4.0,
                          "mala 10d");
}

TEST(Mala, PurityAllocationsAndBadInput) {
  Gaussian target = Gaussian::correlated_2d();
  auto s0 = mala::init(Vec{0.1, 2.0}, target);
  ASSERT_TRUE(s0.ok());
  const mala::State before = *s0;
  auto a = mala::build_kernel()(make_key(4), *s0, target, mala::Params{0.5});
  auto b = mala::build_kernel()(make_key(4), *s0, target, mala::Params{0.5});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(a->state.position == b->state.position);
  EXPECT_TRUE(s0->position == before.position);
  EXPECT_EQ(s0->logdensity, before.logdensity);

  auto alg = mala::sampler(target, mala::Params{0.5});
  mala::State x = *s0, y = *s0;
  mala::Info info;
  ASSERT_TRUE(alg.step_into(make_key(0), x, y, info).ok());
  {
    testing::AllocationScope scope;
    for (int i = 1; i <= 100; ++i) ASSERT_TRUE(alg.step_into(make_key(i), i % 2 ? y : x, i % 2 ? x : y, info).ok());
    EXPECT_EQ(scope.count(), 0);
  }
  EXPECT_FALSE(mala::build_kernel()(make_key(0), *s0, target, mala::Params{0.0}).ok());
  EXPECT_FALSE(mala::build_kernel()(make_key(0), *s0, target, mala::Params{NAN}).ok());
  EXPECT_FALSE(mala::init(Vec{INFINITY, 0.0}, target).ok());
}

TEST(Mala, NonFiniteProposalRejected) {
  auto walled = [](const Vec& x, Vec& g) {
    g(0) = -x(0);
    return std::abs(x(0)) < 1.0 ? -0.5 * x(0) * x(0) : std::nan("");
  };
  auto s0 = mala::init(Vec{0.0}, walled);
  ASSERT_TRUE(s0.ok());
  int divergent = 0;
  for (int i = 0; i < 100; ++i) {
    auto r = mala::build_kernel()(make_key(i), *s0, walled, mala::Params{2.0});
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(std::isfinite(r->state.logdensity));
    if (r->info.is_divergent) {
      ++divergent;
      EXPECT_FALSE(r->info.is_accepted);
    }
  }
  EXPECT_GT(divergent, 30);
}

}  // namespace
}  // namespace nutshell

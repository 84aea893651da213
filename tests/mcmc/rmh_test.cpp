#include "nutshell/mcmc/rmh.hpp"

#include <cmath>

#include <gtest/gtest.h>

#include "nutshell/run/scan.hpp"
#include "tests/support/alloc_counter.hpp"
#include "tests/support/gaussian.hpp"
#include "tests/support/moments.hpp"

namespace nutshell {
namespace {

using testing::Gaussian;

TEST(Rmh, CorrelatedGaussianWithFullCovarianceProposal) {
  Gaussian target = Gaussian::correlated_2d();
  // The optimal scaling 2.38^2 / d times the target covariance.
  auto walk = rmh::NormalRandomWalk::covariance(target.covariance() * (2.38 * 2.38 / 2.0));
  ASSERT_TRUE(walk.ok());
  auto alg = rmh::sampler(target, *walk);
  auto init = alg.init(Vec{0.0, 3.0});
  ASSERT_TRUE(init.ok());
  auto run = run_inference_algorithm(make_key(1), alg, *init, 60000);
  ASSERT_TRUE(run.ok());
  testing::expect_moments(run->positions, target.mean(), xt::diagonal(target.covariance()), 4.0,
                          "rmh 2d");
}

TEST(Rmh, TenDimensionalScalesWithDiagonalProposal) {
  Gaussian target = Gaussian::scales_10d();
  Vec sd = xt::sqrt(xt::diagonal(target.covariance())) * (2.38 / std::sqrt(10.0));
  auto walk = rmh::NormalRandomWalk::diagonal(sd);
  ASSERT_TRUE(walk.ok());
  auto alg = rmh::sampler(target, *walk);
  auto init = alg.init(xt::zeros<double>({10}));
  ASSERT_TRUE(init.ok());
  auto run = run_inference_algorithm(make_key(2), alg, *init, 200000, RunOptions{.thinning = 10});
  ASSERT_TRUE(run.ok());
  testing::expect_moments(run->positions, target.mean(), xt::diagonal(target.covariance()), 4.0,
                          "rmh 10d");
}

TEST(Rmh, AsymmetricUserProposalNeedsItsHastingsCorrection) {
  // Target N(0, 1); proposal: independent N(1, 2^2), ignoring the current
  // point. Without the proposal density correction the chain is biased
  // toward 1; with it, it is exact.
  Gaussian target = Gaussian::independent(Vec{1.0});
  auto sample = [](const Key& k, const Vec&, Vec& to) { to(0) = 1.0 + 2.0 * normal(k); };
  auto logq = [](const Vec& to, const Vec&) { return -0.5 * std::pow((to(0) - 1.0) / 2.0, 2); };
  auto corrected = rmh::sampler(target, rmh::proposal(sample, logq));
  auto naive = rmh::sampler(target, rmh::proposal(sample));
  auto init = corrected.init(Vec{0.0});
  ASSERT_TRUE(init.ok());
  auto good = run_inference_algorithm(make_key(3), corrected, *init, 40000);
  auto bad = run_inference_algorithm(make_key(3), naive, *init, 40000);
  ASSERT_TRUE(good.ok() && bad.ok());
  testing::expect_moments(good->positions, Vec{0.0}, Vec{1.0}, 4.0, "irmh-as-rmh");
  // The uncorrected chain targets p(x) q(x), i.e. N(0.2, 0.8): provably wrong.
  const auto biased = testing::batch_means(testing::column(bad->positions, 0));
  EXPECT_LT(std::abs(biased.mean - 0.2), 4 * biased.mcse);
  EXPECT_GT(biased.mean, 8 * biased.mcse);
}

TEST(Rmh, PurityAllocationsAndBadInput) {
  Gaussian target = Gaussian::correlated_2d();
  auto walk = rmh::NormalRandomWalk::isotropic(0.5);
  ASSERT_TRUE(walk.ok());
  auto s0 = rmh::init(Vec{0.0, 1.0}, target);
  ASSERT_TRUE(s0.ok());
  const rmh::State before = *s0;
  auto a = rmh::build_kernel()(make_key(9), *s0, target, *walk);
  auto b = rmh::build_kernel()(make_key(9), *s0, target, *walk);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(a->state.position == b->state.position);
  EXPECT_TRUE(s0->position == before.position);

  auto alg = rmh::sampler(target, *walk);
  rmh::State x = *s0, y = *s0;
  rmh::Info info;
  ASSERT_TRUE(alg.step_into(make_key(0), x, y, info).ok());
  {
    testing::AllocationScope scope;
    for (int i = 1; i <= 100; ++i) ASSERT_TRUE(alg.step_into(make_key(i), i % 2 ? y : x, i % 2 ? x : y, info).ok());
    EXPECT_EQ(scope.count(), 0);
  }
  EXPECT_FALSE(rmh::NormalRandomWalk::isotropic(0.0).ok());
  EXPECT_FALSE(rmh::NormalRandomWalk::diagonal(Vec{1.0, -1.0}).ok());
  EXPECT_FALSE(rmh::NormalRandomWalk::covariance(Mat{{1.0, 2.0}, {2.0, 1.0}}).ok());
  auto walk3 = rmh::NormalRandomWalk::covariance(xt::eye<double>(3));
  ASSERT_TRUE(walk3.ok());
  auto mismatch = rmh::build_kernel()(make_key(0), *s0, target, *walk3);
  EXPECT_EQ(mismatch.status().code(), absl::StatusCode::kInvalidArgument);
  auto thrower = [](const Vec&) -> double { throw std::runtime_error("nope"); };
  EXPECT_NE(rmh::init(Vec{0.0}, thrower).status().message().find("nope"), std::string::npos);
}

TEST(Rmh, NonFiniteProposalRejected) {
  auto half_line = [](const Vec& x) { return x(0) > 0 ? -x(0) : -INFINITY; };
  auto walk = rmh::NormalRandomWalk::isotropic(1.0);
  auto alg = rmh::sampler(half_line, *walk);
  auto s0 = alg.init(Vec{0.5});
  ASSERT_TRUE(s0.ok());
  auto run = run_inference_algorithm(make_key(1), alg, *s0, 2000);
  ASSERT_TRUE(run.ok());
  EXPECT_GT(run->num_divergent, 100u);
  for (std::size_t i = 0; i < run->positions.shape(0); ++i) EXPECT_GT(run->positions(i, 0), 0.0);
}

}  // namespace
}  // namespace nutshell

#include "nutshell/mcmc/barker.hpp"

#include <cmath>
#include <stdexcept>

#include <gtest/gtest.h>

#include "nutshell/core/algorithm.hpp"
#include "nutshell/run/scan.hpp"
#include "tests/support/alloc_counter.hpp"
#include "tests/support/gaussian.hpp"
#include "tests/support/moments.hpp"

namespace nutshell {
namespace {

using testing::Gaussian;

static_assert(InPlaceSamplingAlgorithm<decltype(barker::sampler(Gaussian::correlated_2d(), barker::Params{}))>);

double mean_acceptance(const std::vector<barker::Info>& infos) {
  double s = 0.0;
  for (const auto& i : infos) s += i.acceptance_rate;
  return s / static_cast<double>(infos.size());
}

TEST(Barker, TenDimensionalScalesWithDiagonalPreconditioning) {
  Gaussian target = Gaussian::scales_10d();
  auto metric = Metric::diagonal(xt::diagonal(target.covariance()));
  ASSERT_TRUE(metric.ok());
  auto alg = barker::sampler(target, barker::Params{1.2, *metric});
  auto s0 = alg.init(xt::ones<double>({10}) * 2.0);
  ASSERT_TRUE(s0.ok());
  auto run = run_inference_algorithm(make_key(31), alg, *s0, 100000, RunOptions{.thinning = 5});
  ASSERT_TRUE(run.ok()) << run.status();
  Mat kept = xt::view(run->positions, xt::range(200, run->positions.shape(0)), xt::all());
  testing::expect_moments(kept, target.mean(), xt::diagonal(target.covariance()), 4.0,
                          "barker 10d");
  const double acc = mean_acceptance(run->infos);
  EXPECT_GT(acc, 0.2);
  EXPECT_LT(acc, 0.9);
  std::printf("barker 10d acceptance %.3f\n", acc);
}

TEST(Barker, TenDimensionalScalesWithoutPreconditioning) {
  // One step size for sds 0.1..10: the narrow coordinates bound it, the wide
  // ones then mix in ~ (10 / step)^2 steps, hence a long thinned run. (The
  // gradient only tilts signs, so the sd-0.1 coordinates' large gradients do
  // not make the chain unstable as they would MALA's.)
  Gaussian target = Gaussian::scales_10d();
  auto alg = barker::sampler(target, barker::Params{0.3});
  auto s0 = alg.init(xt::zeros<double>({10}));
  ASSERT_TRUE(s0.ok());
  auto run = run_inference_algorithm(make_key(33), alg, *s0, 1000000, RunOptions{.thinning = 100});
  ASSERT_TRUE(run.ok()) << run.status();
  testing::expect_moments(run->positions, target.mean(), xt::diagonal(target.covariance()), 4.0,
                          "barker 10d unpreconditioned");
  std::printf("barker 10d unpreconditioned acceptance %.3f\n", mean_acceptance(run->infos));
}

TEST(Barker, BlackjaxCaseCCorrelatedGaussian) {
  // Blackjax's MCSE test settings (step 0.45, no preconditioning), and the
  // same target with the true covariance as a dense preconditioner.
  Gaussian target = Gaussian::correlated_2d();
  auto dense = Metric::dense(target.covariance());
  ASSERT_TRUE(dense.ok());
  for (const barker::Params& params : {barker::Params{0.45, {}}, barker::Params{1.5, *dense}}) {
    auto alg = barker::sampler(target, params);
    auto s0 = alg.init(Vec{0.0, 0.0});
    ASSERT_TRUE(s0.ok());
    auto run = run_inference_algorithm(make_key(32), alg, *s0, 60000);
    ASSERT_TRUE(run.ok());
    Mat kept = xt::view(run->positions, xt::range(1000, 60000), xt::all());
    testing::expect_moments(kept, target.mean(), xt::diagonal(target.covariance()), 4.0,
                            params.inverse_mass_matrix.dim() ? "barker 2d dense" : "barker 2d");
  }
}

TEST(Barker, SignsLeanTowardTheGradientAndLinearTargetsAlwaysAccept) {
  // log p(x) = 5 x: each sign is kept with probability sigmoid(5 z), so the
  // move goes up far more often than down; and the proposal ratio cancels the
  // density ratio exactly, so every proposal is accepted.
  auto linear = [](const Vec& x, Vec& g) {
    g(0) = 5.0;
    return 5.0 * x(0);
  };
  auto s0 = barker::init(Vec{0.0}, linear);
  ASSERT_TRUE(s0.ok());
  int up = 0;
  for (int k = 0; k < 1000; ++k) {
    auto r = barker::build_kernel()(make_key(k), *s0, linear, barker::Params{1.0});
    ASSERT_TRUE(r.ok());
    EXPECT_NEAR(r->info.acceptance_rate, 1.0, 1e-12);
    ASSERT_TRUE(r->info.is_accepted);
    up += r->state.position(0) > 0.0;
  }
  // E[sigmoid(5 |z|)] = 0.8945 for z ~ N(0, 1): 894.5 +- 9.7 of 1000 (the
  // sign error of taking 1 - sigmoid would give about 105).
  EXPECT_GT(up, 855);
  EXPECT_LT(up, 935);
}

TEST(Barker, PurityAndNoAllocations) {
  Gaussian target = Gaussian::scales_10d();
  auto metric = Metric::diagonal(xt::diagonal(target.covariance()));
  const barker::Params params{1.0, *metric};
  auto s0 = barker::init(xt::ones<double>({10}), target);
  ASSERT_TRUE(s0.ok());
  const barker::State before = *s0;
  auto a = barker::build_kernel()(make_key(4), *s0, target, params);
  auto b = barker::build_kernel()(make_key(4), *s0, target, params);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(a->state.position == b->state.position);
  EXPECT_TRUE(a->state.logdensity_grad == b->state.logdensity_grad);
  EXPECT_EQ(a->info.acceptance_rate, b->info.acceptance_rate);
  EXPECT_TRUE(s0->position == before.position);
  EXPECT_TRUE(s0->logdensity_grad == before.logdensity_grad);
  EXPECT_EQ(s0->logdensity, before.logdensity);

  auto alg = barker::sampler(target, params);
  barker::State x = *s0, y = *s0;
  barker::Info info;
  ASSERT_TRUE(alg.step_into(make_key(0), x, y, info).ok());
  testing::AllocationScope scope;
  for (int i = 1; i <= 100; ++i)
    ASSERT_TRUE(alg.step_into(make_key(i), i % 2 ? y : x, i % 2 ? x : y, info).ok());
  EXPECT_EQ(scope.count(), 0);
}

TEST(Barker, BadInputAndErrors) {
  Gaussian target = Gaussian::correlated_2d();
  auto s0 = barker::init(Vec{0.1, 2.0}, target);
  ASSERT_TRUE(s0.ok());
  auto k = barker::build_kernel();
  auto code = [&](const barker::Params& p) { return k(make_key(0), *s0, target, p).status().code(); };
  EXPECT_EQ(code({0.0}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({NAN}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({1.0, Metric::identity(3)}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({1.0, *Metric::diagonal(Vec{1.0})}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({1.0, Metric::identity(2)}), absl::StatusCode::kOk);
  barker::State broken = *s0;
  broken.logdensity_grad = Vec{1.0};
  EXPECT_EQ(k(make_key(0), broken, target, barker::Params{}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(barker::init(Vec{INFINITY, 0.0}, target).ok());

  auto thrower = [](const Vec&, Vec&) -> double { throw std::runtime_error("gradient exploded"); };
  EXPECT_NE(barker::init(Vec{0.0}, thrower).status().message().find("gradient exploded"),
            std::string::npos);
  barker::State any{Vec{0.0}, 0.0, Vec{0.0}};
  EXPECT_NE(k(make_key(0), any, thrower, barker::Params{}).status().message().find("gradient exploded"),
            std::string::npos);
}

TEST(Barker, NonFiniteProposalRejected) {
  auto walled = [](const Vec& x, Vec& g) {
    g(0) = -x(0);
    return std::abs(x(0)) < 1.0 ? -0.5 * x(0) * x(0) : std::nan("");
  };
  auto s0 = barker::init(Vec{0.0}, walled);
  ASSERT_TRUE(s0.ok());
  int divergent = 0;
  for (int i = 0; i < 100; ++i) {
    auto r = barker::build_kernel()(make_key(i), *s0, walled, barker::Params{2.0});
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(std::isfinite(r->state.logdensity));
    if (r->info.is_divergent) {
      ++divergent;
      EXPECT_FALSE(r->info.is_accepted);
      EXPECT_EQ(r->info.acceptance_rate, 0.0);
    }
  }
  EXPECT_GT(divergent, 30);
}

}  // namespace
}  // namespace nutshell

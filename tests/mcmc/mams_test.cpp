// MAMS (mcmc/mams.hpp) and its warmup (adaptation/mams_adaptation.hpp).
#include "nutshell/mcmc/mams.hpp"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include <gtest/gtest.h>

#include "nutshell/adaptation/mams_adaptation.hpp"
#include "nutshell/core/algorithm.hpp"
#include "nutshell/run/scan.hpp"
#include "tests/support/alloc_counter.hpp"
#include "tests/support/gaussian.hpp"
#include "tests/support/moments.hpp"

namespace nutshell {
namespace {

using testing::Gaussian;

/// The tests' base key (the environment's MAMS_TEST_SEED, for trying other
/// keys by hand; 0 in CI).
std::uint64_t seed() {
  const char* s = std::getenv("MAMS_TEST_SEED");
  return s ? std::strtoull(s, nullptr, 10) : 0;
}

Vec variances(const Gaussian& g) { return xt::diagonal(g.covariance()); }

double mean_abs_energy_error(const Gaussian& target, double step_size, double L) {
  Gaussian f = target;
  auto s = mams::init(xt::ones<double>({target.mean().size()}), f);
  EXPECT_TRUE(s.ok());
  const mams::Kernel kernel{mclachlan, mams::TrajectoryKind::kFixed};
  double total = 0.0;
  const int n = 400;
  for (int i = 0; i < n; ++i) {
    auto r = kernel(make_key(i), *s, f, mams::Params{step_size, L, {}});
    EXPECT_TRUE(r.ok());
    total += std::abs(r->info.energy_change);
  }
  return total / n;
}

// The isokinetic McLachlan integrator is second order: over a fixed
// trajectory length, halving the step divides the energy error by ~4 (a
// wrong kinetic term, e.g. a missing (d - 1) factor, makes the error O(1)).
TEST(Mams, EnergyErrorOfIsokineticIntegratorIsSecondOrder) {
  Gaussian target = Gaussian::independent(xt::ones<double>({10}));
  const double e1 = mean_abs_energy_error(target, 0.4, 3.2);
  const double e2 = mean_abs_energy_error(target, 0.2, 3.2);
  const double e3 = mean_abs_energy_error(target, 0.1, 3.2);
  std::printf("mean |dE|: %.3g %.3g %.3g\n", e1, e2, e3);
  EXPECT_GT(e1 / e2, 3.0);
  EXPECT_LT(e1 / e2, 5.5);
  EXPECT_GT(e2 / e3, 3.3);
  EXPECT_LT(e2 / e3, 4.8);
  EXPECT_LT(e3, 0.02);
}

// Detailed balance: with a step size large enough that a third of the
// proposals are rejected, the Metropolis correction must still give the
// exact moments (an unadjusted chain at these steps is off by far more than
// the tolerance; a wrong sign of the kinetic term too).
TEST(Mams, ExactOnCorrelatedGaussianAtLargeStep) {
  Gaussian target = Gaussian::correlated_2d();
  for (auto kind : {mams::TrajectoryKind::kFixed, mams::TrajectoryKind::kUniformJitter}) {
    auto alg = mams::sampler(target, mams::Params{1.5, 3.0, {}}, mams::Kernel{mclachlan, kind});
    auto init = alg.init(Vec{0.5, 2.0});
    ASSERT_TRUE(init.ok());
    auto run = run_inference_algorithm(make_key(seed() + 7), alg, *init, 30000);
    ASSERT_TRUE(run.ok()) << run.status();
    double acc = 0.0;
    for (const auto& i : run->infos) acc += i.acceptance_rate;
    acc /= static_cast<double>(run->infos.size());
    EXPECT_GT(acc, 0.3);
    EXPECT_LT(acc, 0.9);
    testing::expect_moments(run->positions, target.mean(), variances(target), 4.0, "mams 2d");
  }
}

TEST(Mams, ExactOnScalesWithDiagonalPreconditioner) {
  Gaussian target = Gaussian::scales_10d();
  // A preconditioner off by factors up to 2 in either direction.
  Vec v = variances(target);
  for (std::size_t j = 0; j < 10; ++j) v(j) *= j % 2 ? 2.0 : 0.5;
  auto metric = Metric::diagonal(v);
  ASSERT_TRUE(metric.ok());
  auto alg = mams::sampler(target, mams::Params{0.8, 4.0, *metric});
  auto init = alg.init(xt::ones<double>({10}));
  ASSERT_TRUE(init.ok());
  auto run = run_inference_algorithm(make_key(seed() + 8), alg, *init, 30000);
  ASSERT_TRUE(run.ok()) << run.status();
  testing::expect_moments(run->positions, target.mean(), variances(target), 4.0, "mams 10d");
}

TEST(Mams, JitteredStepsHaveTheRequestedMean) {
  for (double mean : {1.0, 1.3, 4.0, 10.7}) {
    double total = 0.0;
    const int n = 20000;
    for (int i = 0; i < n; ++i)
      total += mams::num_steps(mams::TrajectoryKind::kUniformJitter, make_key(i), mean, 1.0, 1000);
    EXPECT_NEAR(total / n, mean, 0.03 * mean + 0.01) << mean;
  }
  EXPECT_EQ(mams::num_steps(mams::TrajectoryKind::kFixed, make_key(0), 3.4, 1.0, 1000), 3);
  EXPECT_EQ(mams::num_steps(mams::TrajectoryKind::kFixed, make_key(0), 1e9, 1.0, 50), 50);
}

TEST(Mams, StepIsPureDeterministicAndAllocationFree) {
  Gaussian target = Gaussian::scales_10d();
  auto state = mams::init(xt::ones<double>({10}), target);
  ASSERT_TRUE(state.ok());
  const mams::Kernel kernel;
  const mams::Params params{0.5, 3.0, *Metric::diagonal(variances(target))};
  auto a = kernel(make_key(1), *state, target, params);
  auto b = kernel(make_key(1), *state, target, params);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(a->state.position == b->state.position);
  EXPECT_EQ(a->info.energy_change, b->info.energy_change);
  for (const Metric& m : {*Metric::diagonal(variances(target)),
                          *Metric::dense(target.covariance()), Metric::identity(10), Metric{}}) {
    auto alg = mams::sampler(target, mams::Params{0.1, 1.0, m});
    static_assert(InPlaceSamplingAlgorithm<decltype(alg)>);
    mams::State x = *state, y = *state;
    mams::Info info;
    ASSERT_TRUE(alg.step_into(make_key(0), x, y, info).ok());
    testing::AllocationScope scope;
    for (int i = 1; i <= 200; ++i)
      ASSERT_TRUE(alg.step_into(make_key(i), i % 2 ? y : x, i % 2 ? x : y, info).ok());
    EXPECT_EQ(scope.count(), 0);
  }
}

TEST(Mams, BadInputIsAnError) {
  Gaussian target = Gaussian::independent(xt::ones<double>({3}));
  auto s = mams::init(xt::ones<double>({3}), target);
  ASSERT_TRUE(s.ok());
  const mams::Kernel kernel;
  EXPECT_FALSE(kernel(make_key(0), *s, target, mams::Params{-1.0, 1.0, {}}).ok());
  EXPECT_FALSE(kernel(make_key(0), *s, target, mams::Params{0.1, 0.0, {}}).ok());
  EXPECT_FALSE(kernel(make_key(0), *s, target, mams::Params{0.1, NAN, {}}).ok());
  EXPECT_FALSE(kernel(make_key(0), *s, target, mams::Params{0.1, 1.0, Metric::identity(4)}).ok());
  Gaussian one = Gaussian::independent(xt::ones<double>({1}));
  EXPECT_FALSE(mams::init(Vec{0.0}, one).ok());
  // A non-finite trajectory is a rejected, divergent transition.
  auto r = kernel(make_key(0), *s, target, mams::Params{1e200, 1e201, {}});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->info.is_divergent);
  EXPECT_FALSE(r->info.is_accepted);
  EXPECT_TRUE(r->state.position == s->position);
}

// The warmup reaches its acceptance target, estimates the variances as its
// preconditioner and sets a trajectory length of the order of the whitened
// scale; the tuned chain then has the exact moments.
TEST(MamsAdaptation, TunesScalesTargetAndSamples) {
  Gaussian target = Gaussian::scales_10d();
  auto s = mams::init(xt::ones<double>({10}), target);
  ASSERT_TRUE(s.ok());
  const mams::Kernel kernel;
  auto tuned = adaptation::mams_warmup(make_key(seed()), kernel, target, *s, 4000);
  ASSERT_TRUE(tuned.ok()) << tuned.status();
  const mams::Params& p = tuned->parameters;
  ASSERT_EQ(p.inverse_mass_matrix.kind(), Metric::Kind::kDiagonal);
  for (std::size_t j = 0; j < 10; ++j)
    EXPECT_NEAR(std::log(p.inverse_mass_matrix.inverse_mass_diagonal()(j) / variances(target)(j)),
                0.0, std::log(2.5))
        << j;
  std::printf("step %.3f L %.3f\n", p.step_size, p.L);
  EXPECT_GT(p.L, 0.5);
  EXPECT_LT(p.L, 20.0);
  EXPECT_GT(p.step_size, 0.2);
  auto alg = mams::sampler(target, p, kernel);
  auto run = run_inference_algorithm(make_key(seed() + 1), alg, tuned->state, 20000);
  ASSERT_TRUE(run.ok()) << run.status();
  double acc = 0.0;
  for (const auto& i : run->infos) acc += i.acceptance_rate;
  acc /= static_cast<double>(run->infos.size());
  EXPECT_GT(acc, 0.8);
  EXPECT_LT(acc, 0.97);
  testing::expect_moments(run->positions, target.mean(), variances(target), 4.0, "mams tuned");
}

TEST(MamsAdaptation, PiecesArePureAndValidated) {
  adaptation::MamsAdaptation a;
  a.options.frac_tune2 = 0.9;
  EXPECT_FALSE(a.init(5, 100).ok());
  adaptation::MamsAdaptation b;
  auto s = b.init(5, 100);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(2 * s->n1 + s->n2 + s->n3 + s->n4, 100u);
  // A tiny warmup skips the phases it has no room for.
  auto tiny = b.init(5, 2);
  ASSERT_TRUE(tiny.ok());
  mams::Info info;
  info.acceptance_rate = 1.0;
  auto u = b.update(*tiny, xt::zeros<double>({5}), info);
  ASSERT_TRUE(u.ok());
  EXPECT_GT(b.final(*u).step_size, 0.0);
}

}  // namespace
}  // namespace nutshell

#include "nutshell/mcmc/mclmc.hpp"

#include <cmath>
#include <stdexcept>

#include <gtest/gtest.h>

#include "nutshell/core/algorithm.hpp"
#include "nutshell/adaptation/mclmc_tuning.hpp"
#include "nutshell/run/scan.hpp"
#include "tests/support/mclmc_bias.hpp"
#include "tests/support/alloc_counter.hpp"
#include "tests/support/gaussian.hpp"
#include "tests/support/moments.hpp"

namespace nutshell {
namespace {

using testing::Gaussian;

Vec variances(const Gaussian& g) { return xt::diagonal(g.covariance()); }

/// Means within z MCSE (unbiased by symmetry on a centred Gaussian: the
/// dynamics commute with x -> -x, u -> -u) and variances within z MCSE plus
/// the stated relative bias bound.
void expect_biased_moments(const Mat& draws, const Vec& mean, const Vec& variance, double bound,
                           const char* label) {
  for (std::size_t j = 0; j < mean.size(); ++j) {
    const auto series = testing::column(draws, j);
    const auto m = testing::batch_means(series);
    EXPECT_LT(std::abs(m.mean - mean(j)), 4.0 * m.mcse)
        << label << " mean " << j << ": " << m.mean << " vs " << mean(j) << " (mcse " << m.mcse << ")";
    std::vector<double> sq(series.size());
    for (std::size_t i = 0; i < sq.size(); ++i) sq[i] = (series[i] - mean(j)) * (series[i] - mean(j));
    const auto v = testing::batch_means(sq);
    EXPECT_LT(std::abs(v.mean - variance(j)), 4.0 * v.mcse + bound * variance(j))
        << label << " variance " << j << ": " << v.mean << " vs " << variance(j) << " (mcse "
        << v.mcse << ", bias bound " << bound << ")";
  }
}

TEST(Mclmc, TenDimensionalScalesTunedWithinBiasBound) {
  Gaussian target = Gaussian::scales_10d();
  const std::size_t n = 40000;
  // The preconditioner is phase 2's estimate of the variances, made before
  // any preconditioning, where the sd-10 coordinate mixes slowest: its
  // relative error shrinks as 1 / sqrt(phase-2 length). Measured over 20 keys
  // with each of two normal generators, the log of the sd-10 coordinate's
  // ratio had sd 0.45 (mean -0.44) with 4000 phase-2 steps, so no useful
  // tolerance held, and sd 0.18 with 40 000. With 200 000 (the 2M-step
  // tuning budget below, Blackjax's fractions; 42 runs) it has mean -0.02
  // and sd 0.10 (ratios 0.80-1.22), the other coordinates sd <= 0.05: the
  // tolerance |ratio - 1| < 0.4 is >= 3.7 sd for every coordinate, yet fails
  // an estimate off by a factor 1.4. (The sd-0.1 coordinate sits 5% low with
  // sd 0.007: a small bias of the unpreconditioned phase-2 estimate, not
  // noise.)
  const std::size_t n_tune = 2000000;
  auto state = mclmc::init(xt::ones<double>({10}), target, make_key(0));
  ASSERT_TRUE(state.ok());
  const auto kernel = mclmc::build_kernel();
  auto tuned = mclmc_find_L_and_step_size(make_key(1), kernel, target, *state, n_tune);
  ASSERT_TRUE(tuned.ok()) << tuned.status();
  // Blackjax's count: n1 + n2 + round(n2 / 3) + n3.
  EXPECT_EQ(tuned->num_tuning_steps, 200000u + 200000u + 66667u + 200000u);
  const mclmc::Params& p = tuned->params;
  ASSERT_TRUE(p.inverse_mass_matrix.has_value());
  for (std::size_t j = 0; j < 10; ++j)
    EXPECT_NEAR(p.inverse_mass_matrix->inverse_mass_diagonal()(j) / variances(target)(j), 1.0, 0.4) << j;
  // Whitened 10-D: McLachlan's small energy error allows steps of ~sqrt(d);
  // nearly independent draws make the ESS-based L comparable to the step.
  EXPECT_GT(p.step_size, 1.0);
  EXPECT_LT(p.step_size, 10.0);
  EXPECT_GT(p.L, 0.5);
  EXPECT_TRUE(std::isfinite(p.L));

  auto alg = mclmc::sampler(target, p, kernel);
  auto run = run_inference_algorithm(make_key(2), alg, tuned->state, n);
  ASSERT_TRUE(run.ok()) << run.status();
  const double eevpd = testing::energy_variance_per_dim(run->infos, 10);
  // The tuning hits its energy-error target to within a factor of ~2.
  EXPECT_GT(eevpd, 5e-4 / 3.0);
  EXPECT_LT(eevpd, 5e-4 * 3.0);
  for (const auto& i : run->infos) EXPECT_TRUE(i.nonans);
  const double bound = testing::mclmc_bias_bound(eevpd, 10);
  EXPECT_LT(bound, 0.2);

  expect_biased_moments(run->positions, target.mean(), variances(target), bound, "mclmc tuned");
}

TEST(Mclmc, DenseMetricAndLeapfrogOnCorrelatedGaussian) {
  Gaussian target = Gaussian::correlated_2d();
  auto dense = Metric::dense(target.covariance());
  ASSERT_TRUE(dense.ok());
  const auto kernel = mclmc::build_kernel(velocity_verlet);
  auto alg = mclmc::sampler(target, mclmc::Params{1.5, 0.2, *dense}, kernel);
  auto init = alg.init(Vec{0.0, 3.0}, make_key(3));
  ASSERT_TRUE(init.ok());
  auto run = run_inference_algorithm(make_key(4), alg, *init, 60000);
  ASSERT_TRUE(run.ok()) << run.status();
  const double bound = testing::mclmc_bias_bound(testing::energy_variance_per_dim(run->infos, 2), 2);
  expect_biased_moments(run->positions, target.mean(), variances(target), bound, "mclmc dense");
}

// Both integrators are second order: the one-step energy error has variance
// ~ h^6, so halving h divides E[dE^2] by ~64 (a first-order slip in the ESH
// update or the splitting would give ~16 or less).
TEST(Mclmc, IsokineticIntegratorsAreSecondOrder) {
  Gaussian target = Gaussian::independent(xt::ones<double>({10}));
  for (const Integrator& integ : {velocity_verlet, mclachlan}) {
    double previous = 0.0;
    for (double h : {0.2, 0.1, 0.05}) {
      double sum = 0.0;
      for (int k = 0; k < 200; ++k) {
        auto s = mclmc::init(normal(fold_in(make_key(5), k), 10), target, make_key(k));
        ASSERT_TRUE(s.ok());
        mclmc::State z = *s;
        Vec scratch = Vec::from_shape({10});
        auto dk = mclmc::isokinetic_step(integ, nullptr, target, z, h, scratch);
        ASSERT_TRUE(dk.ok());
        EXPECT_NEAR(ops::squared_norm(z.momentum), 1.0, 1e-12);
        const double de = *dk - z.logdensity + s->logdensity;
        sum += de * de;
      }
      if (previous > 0.0) {
        EXPECT_GT(previous / sum, 40.0) << integ.name << " h " << h;
        EXPECT_LT(previous / sum, 90.0) << integ.name << " h " << h;
      }
      previous = sum;
    }
  }
}

TEST(Mclmc, RevertsNonFiniteStepsAndReportsThem) {
  // Finite inside |x_0| < 1 only: large steps leave the support.
  auto walled = [](const Vec& x, Vec& g) {
    g = -x;
    return std::abs(x(0)) < 1.0 ? -0.5 * ops::squared_norm(x) : std::nan("");
  };
  auto state = mclmc::init(Vec{0.0, 0.0, 0.0}, walled, make_key(0));
  ASSERT_TRUE(state.ok());
  const auto kernel = mclmc::build_kernel();
  int reverted = 0;
  for (int i = 0; i < 100; ++i) {
    auto r = kernel(make_key(i), *state, walled, mclmc::Params{1.0, 3.0, {}});
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(std::isfinite(r->state.logdensity));
    EXPECT_NEAR(ops::squared_norm(r->state.momentum), 1.0, 1e-12);
    if (!r->info.nonans) {
      ++reverted;
      EXPECT_TRUE(r->state.position == state->position);
      EXPECT_FALSE(r->state.momentum == state->momentum);  // redrawn
      EXPECT_EQ(r->info.energy_change, 0.0);
      EXPECT_EQ(r->info.kinetic_change, 0.0);
      EXPECT_EQ(r->info.logdensity, state->logdensity);
    }
  }
  EXPECT_GT(reverted, 20);
  // The energy cutoff reverts too, but is not a NaN.
  Gaussian target = Gaussian::independent(xt::ones<double>({4}));
  auto s = mclmc::init(xt::ones<double>({4}), target, make_key(1));
  ASSERT_TRUE(s.ok());
  auto r = mclmc::build_kernel(mclachlan, 1e-12)(make_key(2), *s, target, mclmc::Params{1.0, 1.0, {}});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->info.nonans);
  EXPECT_EQ(r->info.energy_change, 0.0);
  EXPECT_TRUE(r->state.position == s->position);
}

TEST(Mclmc, StepIsPureDeterministicAndAllocationFree) {
  Gaussian target = Gaussian::scales_10d();
  auto state = mclmc::init(xt::ones<double>({10}), target, make_key(3));
  ASSERT_TRUE(state.ok());
  const mclmc::State before = *state;
  auto diag = Metric::diagonal(variances(target));
  ASSERT_TRUE(diag.ok());
  const mclmc::Params params{3.0, 0.5, *diag};
  const auto kernel = mclmc::build_kernel();
  auto a = kernel(make_key(1), *state, target, params);
  auto b = kernel(make_key(1), *state, target, params);
  auto c = kernel(make_key(2), *state, target, params);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_TRUE(state->position == before.position);
  EXPECT_TRUE(state->momentum == before.momentum);
  EXPECT_TRUE(a->state.position == b->state.position);
  EXPECT_TRUE(a->state.momentum == b->state.momentum);
  EXPECT_EQ(a->info.energy_change, b->info.energy_change);
  EXPECT_FALSE(a->state.position == c->state.position);

  for (const Metric& m : {*diag, *Metric::dense(target.covariance()), Metric::identity(10)}) {
    auto alg = mclmc::sampler(target, mclmc::Params{3.0, 0.1, m});
    static_assert(InPlaceSamplingAlgorithm<decltype(alg)>);
    mclmc::State x = *state, y = *state;
    mclmc::Info info;
    ASSERT_TRUE(alg.step_into(make_key(0), x, y, info).ok());
    testing::AllocationScope scope;
    for (int i = 1; i <= 200; ++i)
      ASSERT_TRUE(alg.step_into(make_key(i), i % 2 ? y : x, i % 2 ? x : y, info).ok());
    EXPECT_EQ(scope.count(), 0);
  }
}

TEST(Mclmc, BadInputIsAnError) {
  Gaussian target = Gaussian::correlated_2d();
  auto state = mclmc::init(Vec{0.0, 0.0}, target, make_key(0));
  ASSERT_TRUE(state.ok());
  const auto kernel = mclmc::build_kernel();
  auto code = [&](const mclmc::Params& p, const mclmc::State& s) {
    return kernel(make_key(0), s, target, p).status().code();
  };
  EXPECT_EQ(code({1.0, 0.0, {}}, *state), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({1.0, NAN, {}}, *state), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({0.0, 0.1, {}}, *state), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({NAN, 0.1, {}}, *state), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({1.0, 0.1, Metric::identity(3)}, *state), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(kernel(make_key(0), *state, target, mclmc::Params{INFINITY, 0.1, {}}).ok());
  mclmc::State bad = *state;
  bad.momentum = Vec{1.0};
  EXPECT_EQ(code({1.0, 0.1, {}}, bad), absl::StatusCode::kInvalidArgument);
  // One dimension is not enough for the isokinetic momentum.
  auto one_d = [](const Vec& x, Vec& g) {
    g = -x;
    return -0.5 * x(0) * x(0);
  };
  auto s1 = mclmc::init(Vec{0.0}, one_d, make_key(0));
  EXPECT_EQ(s1.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s1.status().message().find("at least 2 dimensions"), std::string::npos);
  EXPECT_FALSE(mclmc::init(Vec{NAN, 0.0}, target, make_key(0)).ok());
  // Tuning options.
  auto tune = [&](MclmcTuningOptions o) {
    return mclmc_find_L_and_step_size(make_key(0), kernel, target, *state, 100, o).status().code();
  };
  MclmcTuningOptions o;
  o.frac_tune1 = 1.5;
  EXPECT_EQ(tune(o), absl::StatusCode::kInvalidArgument);
  o = {};
  o.desired_energy_var = 0.0;
  EXPECT_EQ(tune(o), absl::StatusCode::kInvalidArgument);
  o = {};
  o.num_effective_samples = 0;
  EXPECT_EQ(tune(o), absl::StatusCode::kInvalidArgument);
}

TEST(Mclmc, ThrowingDensityPropagatesItsMessage) {
  int calls = 0;
  auto flaky = [&calls](const Vec& x, Vec& g) -> double {
    if (++calls > 1) throw std::runtime_error("model exploded");
    g = -x;
    return -0.5 * ops::squared_norm(x);
  };
  auto state = mclmc::init(Vec{0.1, 0.2}, flaky, make_key(0));
  ASSERT_TRUE(state.ok());
  auto r = mclmc::build_kernel()(make_key(0), *state, flaky, mclmc::Params{1.0, 0.1, {}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("model exploded"), std::string::npos) << r.status();
  calls = 0;
  auto t = mclmc_find_L_and_step_size(make_key(0), mclmc::build_kernel(), flaky, *state, 100);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("model exploded"), std::string::npos) << t.status();
}

TEST(MclmcTuning, WithoutPreconditioningAndNanRecovery) {
  // No preconditioner: L = sqrt(sum of variances) after phase 2, then the
  // ESS-based L. A target that is NaN far out forces step-size cuts: the
  // tuning must still finish with a finite, reduced step size.
  auto walled = [](const Vec& x, Vec& g) {
    g = -x;
    return ops::squared_norm(x) < 36.0 ? -0.5 * ops::squared_norm(x) : std::nan("");
  };
  auto state = mclmc::init(xt::zeros<double>({5}), walled, make_key(0));
  ASSERT_TRUE(state.ok());
  MclmcTuningOptions o;
  o.diagonal_preconditioning = false;
  o.initial_params = mclmc::Params{2.0, 20.0, {}};  // far too big: NaNs at first
  auto tuned = mclmc_find_L_and_step_size(make_key(1), mclmc::build_kernel(), walled, *state, 20000, o);
  ASSERT_TRUE(tuned.ok()) << tuned.status();
  EXPECT_FALSE(tuned->params.inverse_mass_matrix.has_value());
  EXPECT_EQ(tuned->num_tuning_steps, 6000u);
  EXPECT_LT(tuned->params.step_size, 5.0);
  EXPECT_GT(tuned->params.step_size, 0.3);
  EXPECT_TRUE(std::isfinite(tuned->params.L));
  EXPECT_GT(tuned->params.L, 0.5);
  EXPECT_TRUE(std::isfinite(tuned->state.logdensity));
}

}  // namespace
}  // namespace nutshell

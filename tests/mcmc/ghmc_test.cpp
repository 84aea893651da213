#include "nutshell/mcmc/ghmc.hpp"

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

Vec variances(const Gaussian& g) { return xt::diagonal(g.covariance()); }

TEST(Ghmc, TenDimensionalScales) {
  // GHMC is exact (Metropolis-corrected), so means and variances are checked
  // against the truth. One leapfrog step per transition; with the whitening
  // metric, persistence sqrt(1 - alpha) = 0.95 carries the momentum over ~10
  // steps of 0.4: trajectories of length ~4, long enough not to diffuse.
  Gaussian target = Gaussian::scales_10d();
  auto metric = Metric::diagonal(variances(target));
  ASSERT_TRUE(metric.ok());
  auto alg = ghmc::sampler(target, ghmc::Params{0.4, *metric, 0.1, 0.05});
  auto init = alg.init(xt::ones<double>({10}), make_key(1));
  ASSERT_TRUE(init.ok());
  auto burn = run_inference_algorithm(make_key(2), alg, *init, 2000);
  ASSERT_TRUE(burn.ok());
  auto run = run_inference_algorithm(make_key(3), alg, burn->final_state, 60000);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->num_divergent, 0u);
  double accepted = 0;
  for (const auto& info : run->infos) accepted += info.is_accepted;
  EXPECT_GT(accepted / run->infos.size(), 0.9);
  testing::expect_moments(run->positions, target.mean(), variances(target), 4.0, "ghmc");
}

TEST(Ghmc, CorrelatedDenseMetricSliceNoiseAndHorowitzPersistence) {
  Gaussian target = Gaussian::correlated_2d();
  auto dense = Metric::dense(target.covariance());
  ASSERT_TRUE(dense.ok());
  // Horowitz's a = 0.9 is Blackjax's alpha = 0.19.
  EXPECT_DOUBLE_EQ(ghmc::alpha_from_persistence(0.9), 1.0 - 0.81);
  auto jitter = [](const Key& k) { return uniform(k, -0.05, 0.05); };
  auto alg = ghmc::sampler(target, ghmc::Params{0.6, *dense, ghmc::alpha_from_persistence(0.9), 0.1},
                           ghmc::build_kernel(jitter));
  auto init = alg.init(Vec{0.0, 0.0}, make_key(4));
  ASSERT_TRUE(init.ok());
  auto run = run_inference_algorithm(make_key(5), alg, *init, 40000);
  ASSERT_TRUE(run.ok()) << run.status();
  testing::expect_moments(run->positions, target.mean(), variances(target), 4.0, "ghmc dense");
}

TEST(Ghmc, SliceAndMomentumBookkeeping) {
  Gaussian target = Gaussian::independent(Vec{1.0, 1.0});
  auto state = ghmc::init(Vec{0.5, -0.5}, target, make_key(0));
  ASSERT_TRUE(state.ok());
  EXPECT_GE(state->slice, -1.0);
  EXPECT_LT(state->slice, 1.0);
  const auto kernel = ghmc::build_kernel();
  const ghmc::Params params{0.5, Metric::identity(2), 0.3, 0.25};
  int accepted = 0, rejected = 0;
  ghmc::State s = *state;
  for (int i = 0; i < 300; ++i) {
    auto r = kernel(make_key(100 + i), s, target, params);
    ASSERT_TRUE(r.ok());
    // The slice moved by delta (wrapped), then shrank by exp(H1 - H0) if accepted.
    double shifted = s.slice + 1.0 + params.delta;
    shifted = shifted - 2.0 * std::floor(shifted / 2.0) - 1.0;
    if (r->info.is_accepted) {
      ++accepted;
      const double h0 = -s.logdensity + 0.5 * ops::squared_norm(r->info.momentum);
      EXPECT_NEAR(r->state.slice, shifted * std::exp(r->info.energy - h0), 1e-12);
      EXPECT_LE(std::log(std::abs(shifted)), h0 - r->info.energy);
    } else {
      ++rejected;
      EXPECT_DOUBLE_EQ(r->state.slice, shifted);
      EXPECT_TRUE(r->state.position == s.position);
      EXPECT_TRUE(r->state.momentum == -r->info.momentum);  // flipped on rejection
    }
    EXPECT_LE(std::abs(r->state.slice), 1.0);
    s = r->state;
  }
  EXPECT_GT(accepted, 200);
  // Step 0.5 at a unit Gaussian rejects occasionally; all accepted would mean no test.
  EXPECT_GT(rejected, 0);
}

TEST(Ghmc, StepIsPureDeterministicAndAllocationFree) {
  Gaussian target = Gaussian::scales_10d();
  auto metric = Metric::diagonal(variances(target));
  ASSERT_TRUE(metric.ok());
  auto state = ghmc::init(xt::ones<double>({10}), target, make_key(3), *metric);
  ASSERT_TRUE(state.ok());
  const ghmc::State before = *state;
  const ghmc::Params params{0.3, *metric, 0.2, 0.1};
  const auto kernel = ghmc::build_kernel();
  auto a = kernel(make_key(1), *state, target, params);
  auto b = kernel(make_key(1), *state, target, params);
  auto c = kernel(make_key(2), *state, target, params);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_TRUE(state->position == before.position);
  EXPECT_TRUE(state->momentum == before.momentum);
  EXPECT_EQ(state->slice, before.slice);
  EXPECT_TRUE(a->state.position == b->state.position);
  EXPECT_TRUE(a->state.momentum == b->state.momentum);
  EXPECT_EQ(a->state.slice, b->state.slice);
  EXPECT_FALSE(a->info.momentum == c->info.momentum);

  for (bool dense : {false, true}) {
    auto m = dense ? Metric::dense(target.covariance()) : metric;
    ASSERT_TRUE(m.ok());
    auto alg = ghmc::sampler(target, ghmc::Params{0.3, *m, 0.2, 0.1});
    static_assert(InPlaceSamplingAlgorithm<decltype(alg)>);
    auto s0 = alg.init(xt::ones<double>({10}), make_key(0));
    ASSERT_TRUE(s0.ok());
    ghmc::State x = *s0, y = *s0;
    ghmc::Info info;
    ASSERT_TRUE(alg.step_into(make_key(0), x, y, info).ok());
    testing::AllocationScope scope;
    for (int i = 1; i <= 200; ++i)
      ASSERT_TRUE(alg.step_into(make_key(i), i % 2 ? y : x, i % 2 ? x : y, info).ok());
    EXPECT_EQ(scope.count(), 0) << (dense ? "dense" : "diag");
  }
}

TEST(Ghmc, BadInputIsAnError) {
  Gaussian target = Gaussian::correlated_2d();
  auto state = ghmc::init(Vec{0.0, 0.0}, target, make_key(0));
  ASSERT_TRUE(state.ok());
  const auto kernel = ghmc::build_kernel();
  auto code = [&](const ghmc::Params& p, const ghmc::State& s) {
    return kernel(make_key(0), s, target, p).status().code();
  };
  const auto I = Metric::identity(2);
  EXPECT_EQ(code({0.0, I, 0.1, 0.1}, *state), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({NAN, I, 0.1, 0.1}, *state), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({0.1, I, -0.1, 0.1}, *state), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({0.1, I, 1.5, 0.1}, *state), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({0.1, I, NAN, 0.1}, *state), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({0.1, I, 0.1, INFINITY}, *state), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({0.1, Metric::identity(3), 0.1, 0.1}, *state), absl::StatusCode::kInvalidArgument);
  ghmc::State bad = *state;
  bad.slice = 1.5;
  EXPECT_EQ(code({0.1, I, 0.1, 0.1}, bad), absl::StatusCode::kInvalidArgument);
  bad = *state;
  bad.momentum = Vec{1.0};
  EXPECT_EQ(code({0.1, I, 0.1, 0.1}, bad), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(ghmc::init(Vec{NAN, 0.0}, target, make_key(0)).ok());
  EXPECT_FALSE(ghmc::init(Vec{}, target, make_key(0)).ok());
  EXPECT_FALSE(ghmc::init(Vec{0.0, 0.0}, target, make_key(0), Metric::identity(3)).ok());
}

TEST(Ghmc, ThrowingDensityAndNonFiniteProposals) {
  int calls = 0;
  auto flaky = [&calls](const Vec& x, Vec& g) -> double {
    if (++calls > 1) throw std::runtime_error("model exploded");
    g = -x;
    return -0.5 * x(0) * x(0);
  };
  auto state = ghmc::init(Vec{0.1}, flaky, make_key(0));
  ASSERT_TRUE(state.ok());
  auto r = ghmc::build_kernel()(make_key(0), *state, flaky, ghmc::Params{0.1, Metric::identity(1), 0.5, 0.1});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("model exploded"), std::string::npos) << r.status();

  // NaN outside |x| < 1: big steps leave the support and must be rejected,
  // even when the slice variable is 0 (log 0 = -inf would accept anything;
  // delta = 2 leaves it at 0).
  auto walled = [](const Vec& x, Vec& g) {
    g(0) = -x(0);
    return std::abs(x(0)) < 1.0 ? -0.5 * x(0) * x(0) : std::nan("");
  };
  auto s = ghmc::init(Vec{0.0}, walled, make_key(1));
  ASSERT_TRUE(s.ok());
  s->slice = 0.0;
  int divergent = 0;
  for (int i = 0; i < 200; ++i) {
    auto t = ghmc::build_kernel()(make_key(i), *s, walled, ghmc::Params{5.0, Metric::identity(1), 1.0, 2.0});
    ASSERT_TRUE(t.ok());
    EXPECT_LT(std::abs(t->state.position(0)), 1.0);
    EXPECT_TRUE(std::isfinite(t->state.logdensity));
    if (t->info.is_divergent) {
      ++divergent;
      EXPECT_FALSE(t->info.is_accepted);
    }
  }
  EXPECT_GT(divergent, 100);
}

}  // namespace
}  // namespace nutshell

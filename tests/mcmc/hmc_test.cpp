#include "nutshell/mcmc/hmc.hpp"

#include <cmath>
#include <stdexcept>

#include <gtest/gtest.h>

#include "nutshell/run/scan.hpp"
#include "tests/support/alloc_counter.hpp"
#include "tests/support/gaussian.hpp"
#include "tests/support/moments.hpp"

namespace nutshell {
namespace {

using testing::Gaussian;

Vec variances(const Gaussian& g) { return xt::diagonal(g.covariance()); }

TEST(Hmc, CorrelatedGaussianDenseAndDiagonal) {
  Gaussian target = Gaussian::correlated_2d();
  auto dense = Metric::dense(target.covariance());
  auto diag = Metric::diagonal(variances(target));
  ASSERT_TRUE(dense.ok() && diag.ok());
  struct Case {
    const char* name;
    Metric metric;
    double step_size;
    int steps;
  };
  // Blackjax's MCSE test settings: (0.85, 27) with the true covariance,
  // (0.5, 20) with the diagonal; jittered lengths would be better but these
  // trajectory lengths are not resonant for this target.
  for (const Case& c : {Case{"dense", *dense, 0.85, 27}, Case{"diag", *diag, 0.5, 20}}) {
    auto alg = hmc::sampler(target, hmc::Params{c.step_size, c.metric, c.steps});
    auto init = alg.init(Vec{0.0, 0.0});
    ASSERT_TRUE(init.ok());
    auto run = run_inference_algorithm(make_key(8456), alg, *init, 4000);
    ASSERT_TRUE(run.ok()) << run.status();
    EXPECT_EQ(run->num_divergent, 0u);
    testing::expect_moments(run->positions, target.mean(), variances(target), 4.0, c.name);
  }
}

TEST(Hmc, TenDimensionalScalesWithEachIntegrator) {
  Gaussian target = Gaussian::scales_10d();
  auto metric = Metric::diagonal(variances(target));
  ASSERT_TRUE(metric.ok());
  for (const Integrator& integ : {velocity_verlet, mclachlan, yoshida}) {
    // The metric whitens the target, so every coordinate is a unit normal: an
    // integration time near a multiple of pi would be resonant (the chain
    // oscillates instead of mixing). 1.6 is well away from pi.
    const double eps = integ.num_coefficients == 3 ? 0.4 : 0.8;
    const int steps = integ.num_coefficients == 3 ? 4 : 2;
    auto alg = hmc::sampler(target, hmc::Params{eps, *metric, steps}, hmc::build_kernel(integ));
    auto init = alg.init(xt::ones<double>({10}));
    ASSERT_TRUE(init.ok());
    // x = 1 is 10 sd out in the first coordinate: discard the transient.
    auto burn = run_inference_algorithm(make_key(2), alg, *init, 500);
    ASSERT_TRUE(burn.ok());
    auto run = run_inference_algorithm(make_key(3), alg, burn->final_state, 4000);
    ASSERT_TRUE(run.ok()) << run.status();
    testing::expect_moments(run->positions, target.mean(), variances(target), 4.0, integ.name);
  }
}

TEST(Hmc, StepIsPureAndDeterministic) {
  Gaussian target = Gaussian::correlated_2d();
  auto state = hmc::init(Vec{0.5, 1.0}, target);
  ASSERT_TRUE(state.ok());
  const hmc::State before = *state;
  const hmc::Params params{0.3, Metric::identity(2), 5};
  const auto kernel = hmc::build_kernel();
  auto a = kernel(make_key(1), *state, target, params);
  auto b = kernel(make_key(1), *state, target, params);
  auto c = kernel(make_key(2), *state, target, params);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_TRUE(state->position == before.position);
  EXPECT_TRUE(state->logdensity_grad == before.logdensity_grad);
  EXPECT_EQ(state->logdensity, before.logdensity);
  EXPECT_TRUE(a->state.position == b->state.position);  // bitwise
  EXPECT_EQ(a->info.energy, b->info.energy);
  EXPECT_TRUE(a->info.momentum == b->info.momentum);
  EXPECT_FALSE(a->info.momentum == c->info.momentum);
}

TEST(Hmc, NoAllocationPerTransitionInSteadyState) {
  for (bool dense : {false, true}) {
    Gaussian target = Gaussian::scales_10d();
    auto metric = dense ? Metric::dense(target.covariance()) : Metric::diagonal(variances(target));
    ASSERT_TRUE(metric.ok());
    auto alg = hmc::sampler(target, hmc::Params{0.3, *metric, 20});
    auto s0 = alg.init(xt::ones<double>({10}));
    ASSERT_TRUE(s0.ok());
    hmc::State a = *s0, b = *s0;
    hmc::Info info;
    ASSERT_TRUE(alg.step_into(make_key(0), a, b, info).ok());  // sizes the buffers
    testing::AllocationScope scope;
    for (int i = 1; i <= 100; ++i) {
      ASSERT_TRUE(alg.step_into(make_key(i), i % 2 ? b : a, i % 2 ? a : b, info).ok());
    }
    EXPECT_EQ(scope.count(), 0) << (dense ? "dense" : "diag")
                                << ": 100 transitions x 20 leapfrogs allocated";
  }
}

TEST(Hmc, BadInputIsAnError) {
  Gaussian target = Gaussian::correlated_2d();
  auto state = hmc::init(Vec{0.0, 0.0}, target);
  ASSERT_TRUE(state.ok());
  const auto kernel = hmc::build_kernel();
  const Key key = make_key(0);
  auto code = [&](const hmc::Params& p) { return kernel(key, *state, target, p).status().code(); };
  EXPECT_EQ(code({0.0, Metric::identity(2), 5}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({-0.1, Metric::identity(2), 5}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({NAN, Metric::identity(2), 5}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({INFINITY, Metric::identity(2), 5}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({0.1, Metric::identity(2), 0}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({0.1, Metric::identity(3), 5}), absl::StatusCode::kInvalidArgument);
  // Mismatched gradient in a hand-made state.
  hmc::State broken = *state;
  broken.logdensity_grad = Vec{1.0};
  EXPECT_FALSE(kernel(key, broken, target, hmc::Params{0.1, Metric::identity(2), 5}).ok());
  // Non-finite starting points and densities are caught at init.
  EXPECT_FALSE(hmc::init(Vec{NAN, 0.0}, target).ok());
  EXPECT_FALSE(hmc::init(Vec{}, target).ok());
  auto nan_density = [](const Vec&, Vec& g) {
    g.fill(0.0);
    return std::nan("");
  };
  EXPECT_FALSE(hmc::init(Vec{0.0}, nan_density).ok());
  auto inf_grad = [](const Vec&, Vec& g) {
    g.fill(INFINITY);
    return 0.0;
  };
  EXPECT_FALSE(hmc::init(Vec{0.0}, inf_grad).ok());
}

TEST(Hmc, ThrowingDensityPropagatesItsMessage) {
  int calls = 0;
  auto flaky = [&calls](const Vec& x, Vec& g) -> double {
    if (++calls > 1) throw std::runtime_error("model exploded");
    g = -x;
    return -0.5 * x(0) * x(0);
  };
  auto state = hmc::init(Vec{0.1}, flaky);
  ASSERT_TRUE(state.ok());
  auto r = hmc::build_kernel()(make_key(0), *state, flaky, hmc::Params{0.1, Metric::identity(1), 3});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("model exploded"), std::string::npos) << r.status();
  EXPECT_FALSE(hmc::init(Vec{0.1}, flaky).ok());
}

TEST(Hmc, NonFiniteProposalIsRejectedAndFlaggedDivergent) {
  // log p = -x^2/2 for |x| < 1, NaN outside: large steps leave the support.
  auto walled = [](const Vec& x, Vec& g) {
    g(0) = -x(0);
    return std::abs(x(0)) < 1.0 ? -0.5 * x(0) * x(0) : std::nan("");
  };
  auto state = hmc::init(Vec{0.0}, walled);
  ASSERT_TRUE(state.ok());
  int divergent = 0;
  for (int i = 0; i < 200; ++i) {
    auto r = hmc::build_kernel()(make_key(i), *state, walled, hmc::Params{3.0, Metric::identity(1), 2});
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(std::isfinite(r->state.logdensity));
    EXPECT_LT(std::abs(r->state.position(0)), 1.0);
    if (r->info.is_divergent) {
      ++divergent;
      EXPECT_FALSE(r->info.is_accepted);
      EXPECT_EQ(r->state.position(0), 0.0);
    }
  }
  EXPECT_GT(divergent, 100);
}

TEST(Hmc, LargeEnergyErrorIsDivergent) {
  Gaussian target = Gaussian::independent(Vec{1.0});
  auto state = hmc::init(Vec{0.0}, target);
  ASSERT_TRUE(state.ok());
  auto r = hmc::build_kernel()(make_key(1), *state, target, hmc::Params{1e4, Metric::identity(1), 3});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->info.is_divergent);
  EXPECT_FALSE(r->info.is_accepted);
  auto calm = hmc::build_kernel()(make_key(1), *state, target, hmc::Params{1e-4, Metric::identity(1), 3});
  ASSERT_TRUE(calm.ok());
  EXPECT_FALSE(calm->info.is_divergent);
}

}  // namespace
}  // namespace nutshell

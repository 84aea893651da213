// NUTS end to end: moments on Gaussians, purity and determinism, no heap
// allocation in steady state, and input validation.
#include "nutshell/mcmc/nuts.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "nutshell/run/scan.hpp"
#include "tests/support/alloc_counter.hpp"
#include "tests/support/gaussian.hpp"
#include "tests/support/moments.hpp"

namespace nutshell {
namespace {

static_assert(InPlaceSamplingAlgorithm<nuts::Sampler<testing::Gaussian>>);

Vec variances(const testing::Gaussian& g) { return xt::diagonal(g.covariance()); }

void expect_recovers(testing::Gaussian target, Metric metric, double step_size,
                     Integrator integrator, std::uint64_t seed, const std::string& label) {
  auto s = nuts::sampler(target, nuts::Params{step_size, std::move(metric)},
                         nuts::build_kernel(integrator));
  auto init = s.init(target.mean() + 1.0);
  ASSERT_TRUE(init.ok()) << init.status();
  auto run = run_inference_algorithm(make_key(seed), s, *init, 4000);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->num_divergent, 0u) << label;
  double accept = 0.0;
  for (const auto& info : run->infos) accept += info.acceptance_rate;
  accept /= static_cast<double>(run->infos.size());
  EXPECT_GT(accept, 0.6) << label;
  testing::expect_moments(run->positions, target.mean(), variances(target), 4.0, label);
}

TEST(Nuts, RecoversCorrelated2dWithDenseMetric) {
  auto g = testing::Gaussian::correlated_2d();
  auto m = Metric::dense(g.covariance());
  ASSERT_TRUE(m.ok());
  expect_recovers(g, *m, 0.85, velocity_verlet, 8456, "2d dense");
}

TEST(Nuts, RecoversCorrelated2dWithDiagonalMetric) {
  auto g = testing::Gaussian::correlated_2d();
  auto m = Metric::diagonal(variances(g));
  ASSERT_TRUE(m.ok());
  expect_recovers(g, *m, 0.5, velocity_verlet, 8457, "2d diag");
}

TEST(Nuts, RecoversScales10dWithDiagonalMetric) {
  auto g = testing::Gaussian::scales_10d();
  auto m = Metric::diagonal(variances(g));
  ASSERT_TRUE(m.ok());
  expect_recovers(g, *m, 0.8, velocity_verlet, 8458, "10d diag");
}

TEST(Nuts, RecoversScales10dWithMcLachlan) {
  auto g = testing::Gaussian::scales_10d();
  auto m = Metric::diagonal(variances(g));
  ASSERT_TRUE(m.ok());
  expect_recovers(g, *m, 1.2, mclachlan, 8459, "10d diag mclachlan");
}

// nuts-rs's jitter (Params::step_size_jitter): the draws are still exact
// (the step size is drawn independently of the state), and over a chain
// the step sizes cover [eps (1 - j), eps (1 + j)] uniformly.
TEST(Nuts, RecoversScales10dWithJitteredStepSize) {
  auto g = testing::Gaussian::scales_10d();
  auto m = Metric::diagonal(variances(g));
  ASSERT_TRUE(m.ok());
  auto s = nuts::sampler(g, nuts::Params{0.8, *m, 0.25});
  auto init = s.init(g.mean() + 1.0);
  ASSERT_TRUE(init.ok()) << init.status();
  auto run = run_inference_algorithm(make_key(8460), s, *init, 4000);
  ASSERT_TRUE(run.ok()) << run.status();
  testing::expect_moments(run->positions, g.mean(), variances(g), 4.0, "10d diag jitter");
  double lo = 1e300, hi = 0.0, mean = 0.0;
  for (const auto& info : run->infos) {
    EXPECT_EQ(info.symmetric_acceptance_rate, 0.0);  // not asked for (Kernel::symmetric_acceptance)
    lo = std::min(lo, info.step_size);
    hi = std::max(hi, info.step_size);
    mean += info.step_size / static_cast<double>(run->infos.size());
  }
  EXPECT_GE(lo, 0.8 * 0.75);
  EXPECT_LT(lo, 0.8 * 0.76);
  EXPECT_LE(hi, 0.8 * 1.25);
  EXPECT_GT(hi, 0.8 * 1.24);
  // Uniform on [0.6, 1.0]: sd 0.4 / sqrt(12) / sqrt(4000) = 0.0018.
  EXPECT_NEAR(mean, 0.8, 4 * 0.0018);
}

TEST(Nuts, StepIsPureAndDeterministic) {
  auto g = testing::Gaussian::correlated_2d();
  auto m = Metric::dense(g.covariance());
  ASSERT_TRUE(m.ok());
  auto s = nuts::sampler(g, nuts::Params{0.7, *m});
  auto init = s.init(Vec{0.3, 2.0});
  ASSERT_TRUE(init.ok());
  const nuts::State before = *init;
  for (std::uint64_t t = 0; t < 20; ++t) {
    auto a = s.step(make_key(t), *init);
    auto b = s.step(make_key(t), *init);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_TRUE(xt::all(xt::equal(init->position, before.position)));
    EXPECT_TRUE(xt::all(xt::equal(init->logdensity_grad, before.logdensity_grad)));
    EXPECT_EQ(init->logdensity, before.logdensity);
    EXPECT_TRUE(xt::all(xt::equal(a->state.position, b->state.position)));
    EXPECT_TRUE(xt::all(xt::equal(a->state.logdensity_grad, b->state.logdensity_grad)));
    EXPECT_EQ(a->state.logdensity, b->state.logdensity);
    EXPECT_TRUE(xt::all(xt::equal(a->info.momentum, b->info.momentum)));
    EXPECT_EQ(a->info.energy, b->info.energy);
    EXPECT_EQ(a->info.acceptance_rate, b->info.acceptance_rate);
    EXPECT_EQ(a->info.num_integration_steps, b->info.num_integration_steps);
    // The pure kernel form with a fresh workspace gives the same bits.
    auto c = nuts::build_kernel()(make_key(t), *init, g, nuts::Params{0.7, *m});
    ASSERT_TRUE(c.ok());
    EXPECT_TRUE(xt::all(xt::equal(a->state.position, c->state.position)));
  }
  // Different keys move the chain differently.
  auto a = s.step(make_key(1), *init), b = s.step(make_key(2), *init);
  EXPECT_FALSE(xt::all(xt::equal(a->state.position, b->state.position)));
}

TEST(Nuts, ReturnedStateIsConsistentWithTheDensity) {
  auto g = testing::Gaussian::scales_10d();
  auto m = Metric::diagonal(variances(g));
  ASSERT_TRUE(m.ok());
  auto s = nuts::sampler(g, nuts::Params{0.8, *m});
  auto state = s.init(g.mean() + 0.5);
  ASSERT_TRUE(state.ok());
  for (std::uint64_t t = 0; t < 20; ++t) {
    auto r = s.step(make_key(t), *state);
    ASSERT_TRUE(r.ok());
    Vec grad = Vec::from_shape({10});
    const double lp = g(r->state.position, grad);
    EXPECT_NEAR(r->state.logdensity, lp, 1e-10);
    EXPECT_LT(xt::amax(xt::abs(grad - r->state.logdensity_grad))(), 1e-10);
    // energy = -log p + K(p) at the returned point: at least -log p.
    EXPECT_GE(r->info.energy, -lp - 1e-12);
    *state = r->state;
  }
}

void expect_no_allocations(testing::Gaussian g, Metric metric, double step_size) {
  auto s = nuts::sampler(g, nuts::Params{step_size, std::move(metric)});
  auto init = s.init(g.mean() + 0.3);
  ASSERT_TRUE(init.ok());
  nuts::State a = *init, b = *init;
  nuts::Info info;
  ASSERT_TRUE(s.step_into(make_key(0), a, b, info).ok());  // warm-up sizes the workspace
  long steps = 0;
  {
    testing::AllocationScope scope;
    for (std::uint64_t t = 1; t <= 200; ++t) {
      auto st = s.step_into(make_key(t), a, b, info);
      if (!st.ok()) break;
      steps += info.num_integration_steps;
      std::swap(a, b);
    }
    EXPECT_EQ(scope.count(), 0);
  }
  EXPECT_GT(steps, 400);
}

TEST(Nuts, NoAllocationPerStepWithDiagonalMetric) {
  auto g = testing::Gaussian::scales_10d();
  auto m = Metric::diagonal(variances(g));
  ASSERT_TRUE(m.ok());
  expect_no_allocations(g, *m, 0.8);
}

TEST(Nuts, NoAllocationPerStepWithDenseMetric) {
  auto g = testing::Gaussian::correlated_2d();
  auto m = Metric::dense(g.covariance());
  ASSERT_TRUE(m.ok());
  expect_no_allocations(g, *m, 0.85);
}

TEST(Nuts, NoAllocationWithDeepTrees) {
  // Tiny steps: every transition runs all 10 doublings (1023 steps).
  auto g = testing::Gaussian::correlated_2d();
  expect_no_allocations(g, Metric::identity(2), 1e-4);
}

// With a dense metric the workspace keeps M^-1 grad of the returned point
// for the next transition (Workspace::cached_grad_velocity). A chain with
// one reused workspace, switching between two metrics, must give the bits of
// fresh workspaces: a stale product (wrong point or wrong metric) would not.
TEST(Nuts, DenseVelocityCacheIsInvisible) {
  auto g = testing::Gaussian::scales_10d();
  Mat c1 = xt::diag(variances(g)), c2 = c1;
  for (std::size_t i = 0; i + 1 < 10; ++i) c2(i, i + 1) = c2(i + 1, i) = 0.2 * c1(i, i);
  auto m1 = Metric::dense(c1), m2 = Metric::dense(c2);
  ASSERT_TRUE(m1.ok() && m2.ok()) << m2.status();
  const nuts::Kernel kernel = nuts::build_kernel();
  auto state = nuts::init(g.mean(), g);
  ASSERT_TRUE(state.ok());
  nuts::Workspace ws;
  nuts::State next;
  nuts::Info info;
  int moved = 0;
  for (std::uint64_t t = 0; t < 60; ++t) {
    // Runs of steps under one metric, then the other (same ws throughout).
    const nuts::Params params{0.5, (t / 7) % 2 == 0 ? *m1 : *m2};
    ASSERT_TRUE(kernel.step_into(make_key(t), *state, g, params, next, info, ws).ok());
    auto fresh = kernel(make_key(t), *state, g, params);
    ASSERT_TRUE(fresh.ok());
    ASSERT_TRUE(xt::all(xt::equal(next.position, fresh->state.position))) << "step " << t;
    ASSERT_EQ(info.energy, fresh->info.energy) << "step " << t;
    moved += !xt::all(xt::equal(next.position, state->position));
    *state = next;
  }
  EXPECT_GT(moved, 40);
}

TEST(Nuts, CopiedSamplerAndReusedWorkspaceStayIndependent) {
  auto g = testing::Gaussian::correlated_2d();
  auto s = nuts::sampler(g, nuts::Params{0.7, Metric::identity(2)});
  auto init = s.init(Vec{0.3, 2.0});
  ASSERT_TRUE(init.ok());
  ASSERT_TRUE(s.step(make_key(0), *init).ok());  // warm s's workspace
  auto copy = s;                                 // a copy must not share s's buffers
  auto a = s.step(make_key(5), *init);
  auto b = copy.step(make_key(5), *init);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(xt::all(xt::equal(a->state.position, b->state.position)));

  // One workspace serving targets of different dimensions and depths.
  nuts::Workspace ws;
  auto g10 = testing::Gaussian::scales_10d();
  auto m10 = Metric::diagonal(variances(g10));
  ASSERT_TRUE(m10.ok());
  auto s10 = nuts::init(g10.mean(), g10);
  ASSERT_TRUE(s10.ok());
  const auto k2 = nuts::build_kernel(velocity_verlet, 4);
  const auto k10 = nuts::build_kernel(velocity_verlet, 12);
  const nuts::Params p2{0.7, Metric::identity(2)}, p10{0.8, *m10};
  auto fresh2 = k2(make_key(7), *init, g, p2);
  auto fresh10 = k10(make_key(7), *s10, g10, p10);
  ASSERT_TRUE(fresh2.ok() && fresh10.ok());
  for (int round = 0; round < 2; ++round) {
    nuts::State out;
    nuts::Info info;
    ASSERT_TRUE(k2.step_into(make_key(7), *init, g, p2, out, info, ws).ok());
    EXPECT_TRUE(xt::all(xt::equal(out.position, fresh2->state.position)));
    ASSERT_TRUE(k10.step_into(make_key(7), *s10, g10, p10, out, info, ws).ok());
    EXPECT_TRUE(xt::all(xt::equal(out.position, fresh10->state.position)));
  }
}

TEST(Nuts, RejectsBadInput) {
  auto g = testing::Gaussian::correlated_2d();
  auto state = nuts::init(Vec{0.0, 3.0}, g);
  ASSERT_TRUE(state.ok());
  const auto kernel = nuts::build_kernel();
  const Key key = make_key(3);
  for (double eps : {0.0, -0.1, std::nan(""), std::numeric_limits<double>::infinity()}) {
    auto r = kernel(key, *state, g, nuts::Params{eps, Metric::identity(2)});
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << eps;
  }
  for (double jitter : {-0.1, 1.0, std::nan("")}) {
    auto r = kernel(key, *state, g, nuts::Params{0.5, Metric::identity(2), jitter});
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << jitter;
    EXPECT_NE(r.status().message().find("step_size_jitter"), std::string::npos) << r.status();
  }
  // Metric of the wrong dimension.
  auto r = kernel(key, *state, g, nuts::Params{0.5, Metric::identity(3)});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("dimension"), std::string::npos) << r.status();
  // A state whose gradient does not match its position.
  nuts::State bad = *state;
  bad.logdensity_grad = Vec{1.0};
  r = kernel(key, bad, g, nuts::Params{0.5, Metric::identity(2)});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  // Depth limits.
  for (int depth : {0, -1, 31}) {
    r = nuts::build_kernel(velocity_verlet, depth)(key, *state, g,
                                                   nuts::Params{0.5, Metric::identity(2)});
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << depth;
  }
  r = nuts::build_kernel(velocity_verlet, 10, std::nan(""))(key, *state, g,
                                                            nuts::Params{0.5, Metric::identity(2)});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  // init rejects non-finite starts.
  EXPECT_FALSE(nuts::init(Vec{NAN, 0.0}, g).ok());
}

TEST(Nuts, ThrowingDensityBecomesAnErrorStatus) {
  // Throws on the 6th evaluation: deep inside a trajectory.
  struct Throws {
    int calls = 0;
    double operator()(const Vec& x, Vec& g) {
      if (++calls > 5) throw std::runtime_error("model exploded");
      for (std::size_t i = 0; i < x.size(); ++i) g(i) = -x(i);
      return -0.5 * xt::sum(x * x)();
    }
  };
  Throws f;
  auto state = nuts::init(Vec{0.1, 0.2}, f);
  ASSERT_TRUE(state.ok());
  auto r = nuts::build_kernel()(make_key(1), *state, f, nuts::Params{1e-3, Metric::identity(2)});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("model exploded"), std::string::npos) << r.status();
}

}  // namespace
}  // namespace nutshell

// Exactness of the NUTS trajectory on hand-computable cases, in the style of
// Stan's base_nuts_test: forced directions and momenta, densities whose
// trajectories are known in closed form, scripted momenta that make exactly
// one of Stan's three merge checks fail, and divergences. Plus Blackjax's
// trajectory cases on a standard normal.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "nutshell/mcmc/nuts.hpp"
#include "tests/support/gaussian.hpp"

namespace nutshell {
namespace {

using nuts::KeySchedule;

// Directions fixed by the test; uniforms from a key schedule (or constant).
struct ForcedChoices {
  std::vector<int> directions;
  KeySchedule* keys = nullptr;  // null: every uniform is 0.5
  int direction(int e) { return directions.at(static_cast<std::size_t>(e)); }
  double jitter_uniform() const { return keys ? keys->jitter_uniform() : 0.5; }
  double merge_uniform(int e) { return keys ? keys->merge_uniform(e) : 0.5; }
  double subtree_uniform(int e, std::uint64_t b) {
    return keys ? keys->subtree_uniform(e, b) : 0.5;
  }
};
static_assert(nuts::TreeChoices<ForcedChoices>);

// log p = 0: momentum never changes and H is exactly constant.
struct Flat {
  double operator()(const Vec&, Vec& g) {
    g.fill(0.0);
    return 0.0;
  }
};

// log p = q_0 in 1-D... or any dimension: a constant force along axis 0.
// Velocity Verlet is exact for a linear potential, so p_k = p_0 + k eps e_0.
struct Linear {
  double operator()(const Vec& x, Vec& g) {
    g.fill(0.0);
    g(0) = 1.0;
    return x(0);
  }
};

// Returns the j-th scripted (log density, gradient) on the j-th call,
// whatever the position: lets a test dictate the momentum at every leaf.
struct Scripted {
  std::vector<double> logp;
  std::vector<Vec> grad;
  std::size_t calls = 0;
  double operator()(const Vec&, Vec& g) {
    if (calls >= logp.size()) throw std::out_of_range("script exhausted");
    const std::size_t j = calls++;
    for (std::size_t i = 0; i < g.size(); ++i) g(i) = grad[j](i);
    return logp[j];
  }
};

// Builds the script that makes velocity Verlet with unit metric and step
// `eps` visit the momenta `m` (in integration order, each new point taken in
// direction `dirs[k]`), starting from momentum m0 with zero gradient and
// log density 0. The log density is chosen so H stays at H0 (all weights 1).
Scripted script_momenta(const Vec& m0, double eps, const std::vector<int>& dirs,
                        const std::vector<Vec>& m) {
  Scripted s;
  struct End {
    Vec m, g;
  };
  End ends[2] = {{m0, xt::zeros<double>({m0.size()})}, {m0, xt::zeros<double>({m0.size()})}};
  const double h0 = 0.5 * xt::sum(m0 * m0)();
  for (std::size_t k = 0; k < m.size(); ++k) {
    End& from = ends[dirs[k] > 0 ? 1 : 0];
    // m_new = m + (dir eps / 2) (g + g_new)
    Vec g_new = 2.0 * (m[k] - from.m) / (dirs[k] * eps) - from.g;
    s.grad.push_back(g_new);
    s.logp.push_back(0.5 * xt::sum(m[k] * m[k])() - h0);
    from.m = m[k];
    from.g = g_new;
  }
  return s;
}

GradientState state_at(const Vec& x, double logp, const Vec& grad) {
  return GradientState{x, logp, grad};
}

struct Run {
  nuts::detail::TrajectoryResult r;
  nuts::Workspace ws;
  absl::Status status;
};

template <class F, class C>
Run trajectory(F& f, const GradientState& s, const Vec& p0, C& choices, double eps,
               int max_doublings, Metric metric) {
  Run run;
  nuts::Kernel kernel;
  kernel.max_num_doublings = max_doublings;
  nuts::Params params{eps, std::move(metric)};
  run.status = nuts::detail::build_trajectory(kernel, f, params, s, p0, choices, run.ws, run.r);
  return run;
}

TEST(NutsTrajectory, FlatDensityRunsToMaxDepthWithRhoEqualToNPlusOneTimesP) {
  Flat f;
  const Vec q0 = {0.5, -1.0}, p0 = {0.75, -0.5};
  const double eps = 0.1;
  ForcedChoices c{{1, -1, -1, 1, -1, 1}};
  auto run = trajectory(f, state_at(q0, 0.0, Vec{0.0, 0.0}), p0, c, eps, 6, Metric::identity(2));
  ASSERT_TRUE(run.status.ok()) << run.status;
  EXPECT_EQ(run.r.depth, 6);
  EXPECT_EQ(run.r.num_steps, 63);
  EXPECT_FALSE(run.r.is_turning);
  EXPECT_FALSE(run.r.is_divergent);
  // All 64 points have weight exp(H0 - H0) = 1.
  EXPECT_NEAR(run.r.log_sum_weight(), std::log(64.0), 1e-12);
  EXPECT_DOUBLE_EQ(run.r.sum_metro_prob, 63.0);
  for (std::size_t i = 0; i < 2; ++i) EXPECT_DOUBLE_EQ(run.ws.trajectory_rho()[i], 64.0 * p0(i));
  // Forward steps 1 + 8 + 32 = 41, backward 2 + 4 + 16 = 22.
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_NEAR(run.ws.ends[1].position(i), q0(i) + 41 * eps * p0(i), 1e-12);
    EXPECT_NEAR(run.ws.ends[0].position(i), q0(i) - 22 * eps * p0(i), 1e-12);
  }
}

TEST(NutsTrajectory, FlatDensitySamplesUniformlyFromTheLastSubtree) {
  // With equal weights the last doubling carries half the total weight, so
  // biased progressive sampling always jumps into it (probability
  // min(1, W_new / W_old) = 1), and uniform progressive sampling inside it
  // picks each of its 32 points (forward offsets 10..41) with probability 1/32.
  Flat f;
  const Vec q0 = {0.0}, p0 = {1.0};
  std::vector<int> counts(32, 0);
  const int n = 3200;
  for (int t = 0; t < n; ++t) {
    KeySchedule keys(make_key(static_cast<std::uint64_t>(t)));
    ForcedChoices c{{1, -1, -1, 1, -1, 1}, &keys};
    auto run = trajectory(f, state_at(q0, 0.0, Vec{0.0}), p0, c, 0.5, 6, Metric::identity(1));
    ASSERT_TRUE(run.status.ok());
    ASSERT_FALSE(run.r.selected_initial);
    const double k = run.ws.sample.position[0] / 0.5;
    ASSERT_NEAR(k, std::round(k), 1e-9);
    ASSERT_GE(k, 10);
    ASSERT_LE(k, 41);
    ++counts[static_cast<std::size_t>(std::lround(k) - 10)];
  }
  // Chi-square with 31 degrees of freedom: the 99.9% quantile is about 61.1.
  double chi2 = 0.0;
  for (int c : counts) chi2 += (c - 100.0) * (c - 100.0) / 100.0;
  EXPECT_LT(chi2, 61.1);
}

TEST(NutsTrajectory, LinearPotentialTurnsAtTheHandComputedDepth) {
  // p_k = -1 + 0.3 k. Expansions 0 and 1 keep every sign check; the subtree
  // {4..7} (momenta 0.2..1.1) is valid on its own, but merged with {0..3}
  // the summed momentum is +0.4 while p_0 = -1: a U-turn at the top level.
  for (int dir : {1, -1}) {
    Linear f;
    const Vec q0 = {0.0}, p0 = {-1.0 * dir};
    ForcedChoices c{{dir, dir, dir, dir}};
    auto run = trajectory(f, state_at(q0, 0.0, Vec{1.0}), p0, c, 0.3, 10, Metric::identity(1));
    ASSERT_TRUE(run.status.ok()) << run.status;
    EXPECT_EQ(run.r.depth, 3) << dir;
    EXPECT_EQ(run.r.num_steps, 7) << dir;
    EXPECT_TRUE(run.r.is_turning);
    EXPECT_FALSE(run.r.is_divergent);
    EXPECT_NEAR(run.ws.trajectory_rho()[0], 0.4 * dir, 1e-12);  // sum over k = 0..7 of (-1 + 0.3 k)
    EXPECT_NEAR(run.r.log_sum_weight(), std::log(8.0), 1e-12);
    EXPECT_NEAR(run.r.sum_metro_prob / run.r.num_steps, 1.0, 1e-12);
  }
}

TEST(NutsTrajectory, LinearPotentialInternalTurnEndsTheTransition) {
  // p_k = -1 + 0.25 k: at expansion 2, leaves 4 (p = 0) and 5 (p = 0.25)
  // form a subtree whose near-end velocity is exactly 0, so it is turning
  // inside the subtree: the transition ends without completing the doubling.
  Linear f;
  const Vec q0 = {0.0}, p0 = {-1.0};
  ForcedChoices c{{1, 1, 1}};
  auto run = trajectory(f, state_at(q0, 0.0, Vec{1.0}), p0, c, 0.25, 10, Metric::identity(1));
  ASSERT_TRUE(run.status.ok());
  EXPECT_EQ(run.r.depth, 2);
  EXPECT_EQ(run.r.num_steps, 5);
  EXPECT_TRUE(run.r.is_turning);
  EXPECT_FALSE(run.r.is_divergent);
  EXPECT_NEAR(run.ws.trajectory_rho()[0], -1.0 - 0.75 - 0.5 - 0.25, 1e-12);  // rho of {0..3} only
  EXPECT_NEAR(run.r.log_sum_weight(), std::log(4.0), 1e-12);
}

// Scripted 2-D momenta (unit metric) for two forward expansions, chosen so
// that every check passes except exactly one of the two cross-subtree checks
// at the top level. Without Stan's extra checks the tree would keep growing.
struct CrossCase {
  const char* name;
  std::vector<Vec> m;  // m0 (initial), m1, m2, m3 in trajectory order
};

std::vector<CrossCase> cross_cases() {
  return {
      // C(m1, m3, m1 + m2 + m3) fails: second half plus last point of the first.
      {"second_half_plus_join", {{1.0, 0.0}, {0.5, 1.0}, {1.0, -3.0}, {1.0, -0.2}}},
      // C(m0, m2, m0 + m1 + m2) fails: first half plus first point of the second.
      {"first_half_plus_join", {{1.0, 0.0}, {1.0, 0.0}, {-3.0, 1.0}, {3.0, 4.0}}},
  };
}

TEST(NutsTrajectory, CrossSubtreeChecksStopTheTopLevel) {
  for (const auto& cc : cross_cases()) {
    const double eps = 0.5;
    const std::vector<int> dirs = {1, 1, 1};
    auto f = script_momenta(cc.m[0], eps, dirs, {cc.m[1], cc.m[2], cc.m[3]});
    ForcedChoices c{{1, 1, 1, 1}};
    auto run = trajectory(f, state_at(Vec{0.0, 0.0}, 0.0, Vec{0.0, 0.0}), cc.m[0], c, eps, 10,
                          Metric::identity(2));
    ASSERT_TRUE(run.status.ok()) << cc.name << ": " << run.status;
    EXPECT_EQ(run.r.depth, 2) << cc.name;
    EXPECT_EQ(run.r.num_steps, 3) << cc.name;
    EXPECT_TRUE(run.r.is_turning) << cc.name;
    EXPECT_NEAR(run.r.log_sum_weight(), std::log(4.0), 1e-12) << cc.name;
    const Vec rho = cc.m[0] + cc.m[1] + cc.m[2] + cc.m[3];
    for (std::size_t i = 0; i < 2; ++i)
      EXPECT_NEAR(run.ws.trajectory_rho()[i], rho(i), 1e-12) << cc.name;
    // The plain criterion alone would have continued.
    Vec v0 = cc.m[0], v3 = cc.m[3];
    EXPECT_GT(xt::sum(v0 * rho)(), 0.0);
    EXPECT_GT(xt::sum(v3 * rho)(), 0.0);
  }
}

TEST(NutsTrajectory, CrossSubtreeChecksWorkBackwards) {
  // The first case laid out in trajectory order (-2, -1, 0, 1): start at m2,
  // expand forward to m3, then backward to m1 and m0. The failing check is
  // now across the join between the new backward subtree and the old
  // trajectory, which exercises the edge-momentum bookkeeping of backward
  // expansions.
  const auto cc = cross_cases()[0];
  const double eps = 0.5;
  const std::vector<int> dirs = {1, -1, -1};
  auto f = script_momenta(cc.m[2], eps, dirs, {cc.m[3], cc.m[1], cc.m[0]});
  ForcedChoices c{{1, -1, 1}};
  auto run = trajectory(f, state_at(Vec{0.0, 0.0}, 0.0, Vec{0.0, 0.0}), cc.m[2], c, eps, 10,
                        Metric::identity(2));
  ASSERT_TRUE(run.status.ok()) << run.status;
  EXPECT_EQ(run.r.depth, 2);
  EXPECT_EQ(run.r.num_steps, 3);
  EXPECT_TRUE(run.r.is_turning);
}

TEST(NutsTrajectory, DensityDroppingBy500PerStepDiverges) {
  // H rises by 500 per step: leaf 3 has H - H0 = 1500 > 1000.
  Scripted f;
  for (int j = 1; j <= 8; ++j) {
    f.logp.push_back(-500.0 * j);
    f.grad.push_back(Vec{0.0, 0.0});
  }
  const Vec p0 = {1.0, 0.5};
  for (std::uint64_t t = 0; t < 20; ++t) {
    f.calls = 0;
    KeySchedule keys(make_key(t));
    ForcedChoices c{{1, 1, 1}, &keys};
    auto run = trajectory(f, state_at(Vec{0.0, 0.0}, 0.0, Vec{0.0, 0.0}), p0, c, 0.1, 10,
                          Metric::identity(2));
    ASSERT_TRUE(run.status.ok()) << run.status;
    EXPECT_TRUE(run.r.is_divergent);
    EXPECT_FALSE(run.r.is_turning);
    EXPECT_EQ(run.r.depth, 1);
    EXPECT_EQ(run.r.num_steps, 3);
    EXPECT_TRUE(run.r.selected_initial);  // leaf 1 has weight e^-500
    EXPECT_LT(run.r.sum_metro_prob, 1e-200);
  }
}

TEST(NutsTrajectory, NaNEndsTheTreeAndItsSubtreeIsNeverSelected) {
  // Leaves 1..3 have weight 1, leaves 4..6 weight e^20, leaf 7 is NaN. The
  // subtree {4..7} would dominate any selection, but it contains the
  // divergence, so it is discarded whole. Of the rest, biased progressive
  // sampling always jumps into {2, 3} (its weight equals the old one's), and
  // picks 2 or 3 with probability 1/2 each.
  Scripted f;
  for (int j = 1; j <= 7; ++j) {
    f.logp.push_back(j <= 3 ? 0.0 : j <= 6 ? 20.0 : std::numeric_limits<double>::quiet_NaN());
    f.grad.push_back(Vec{0.0});
  }
  const Vec p0 = {1.0};
  const double eps = 0.5;
  std::vector<int> seen(8, 0);
  for (std::uint64_t t = 0; t < 400; ++t) {
    f.calls = 0;
    KeySchedule keys(make_key(1000 + t));
    ForcedChoices c{{1, 1, 1}, &keys};
    auto run =
        trajectory(f, state_at(Vec{0.0}, 0.0, Vec{0.0}), p0, c, eps, 10, Metric::identity(1));
    ASSERT_TRUE(run.status.ok()) << run.status;
    ASSERT_TRUE(run.r.is_divergent);
    ASSERT_EQ(run.r.depth, 2);
    ASSERT_EQ(run.r.num_steps, 7);
    EXPECT_NEAR(run.r.log_sum_weight(), std::log(4.0), 1e-12);
    const double x = run.r.selected_initial ? 0.0 : run.ws.sample.position[0];
    const long k = std::lround(x / eps);
    ASSERT_GE(k, 0);
    ASSERT_LE(k, 3) << "a point of the divergent subtree was selected";
    ++seen[static_cast<std::size_t>(k)];
  }
  EXPECT_EQ(seen[0] + seen[1], 0);
  EXPECT_GT(seen[2], 150);
  EXPECT_GT(seen[3], 150);
}

TEST(NutsTrajectory, NaNAtFirstStepSelectsTheInitialPoint) {
  Scripted f;
  f.logp = {std::numeric_limits<double>::quiet_NaN()};
  f.grad = {Vec{0.0}};
  ForcedChoices c{{-1}};
  auto run =
      trajectory(f, state_at(Vec{2.0}, -1.0, Vec{0.0}), Vec{1.0}, c, 0.5, 10, Metric::identity(1));
  ASSERT_TRUE(run.status.ok());
  EXPECT_TRUE(run.r.is_divergent);
  EXPECT_EQ(run.r.depth, 0);
  EXPECT_EQ(run.r.num_steps, 1);
  EXPECT_TRUE(run.r.selected_initial);
  EXPECT_EQ(run.r.sum_metro_prob, 0.0);
}

TEST(NutsTrajectory, NonFiniteGradientIsDivergentEvenWithAHighDensity) {
  // Leaf 1 claims log p = +10 (it would win any selection) but its gradient
  // is NaN: the final momentum half-step makes the energy NaN, so it is
  // divergent and the initial point comes back.
  for (double bad :
       {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()}) {
    Scripted f;
    f.logp = {10.0};
    f.grad = {Vec{bad, 0.0}};
    ForcedChoices c{{1}};
    auto run = trajectory(f, state_at(Vec{0.0, 0.0}, 0.0, Vec{0.0, 0.0}), Vec{1.0, 1.0}, c, 0.5, 10,
                          Metric::identity(2));
    ASSERT_TRUE(run.status.ok());
    EXPECT_TRUE(run.r.is_divergent) << bad;
    EXPECT_EQ(run.r.num_steps, 1);
    EXPECT_TRUE(run.r.selected_initial);
  }
}

// Blackjax's test_trajectory cases on a standard normal from x = 0.
TEST(NutsTrajectory, BlackjaxTinyStepRunsAllDoublingsWithoutTurning) {
  auto target = testing::Gaussian::independent(Vec{1.0});
  auto state = nuts::init(Vec{0.0}, target);
  ASSERT_TRUE(state.ok());
  const nuts::Params params{1e-10, Metric::identity(1)};
  for (std::uint64_t t = 0; t < 5; ++t) {
    auto r = nuts::build_kernel()(make_key(t), *state, target, params);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->info.num_trajectory_expansions, 10);
    EXPECT_EQ(r->info.num_integration_steps, 1023);
    EXPECT_FALSE(r->info.is_turning);
    EXPECT_FALSE(r->info.is_divergent);
    EXPECT_NEAR(r->info.acceptance_rate, 1.0, 1e-9);
  }
}

TEST(NutsTrajectory, BlackjaxHugeStepDivergesOnTheFirstExpansion) {
  auto target = testing::Gaussian::independent(Vec{1.0});
  auto state = nuts::init(Vec{0.0}, target);
  ASSERT_TRUE(state.ok());
  const nuts::Params params{1e5, Metric::identity(1)};
  for (std::uint64_t t = 0; t < 5; ++t) {
    auto r = nuts::build_kernel()(make_key(t), *state, target, params);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_TRUE(r->info.is_divergent);
    EXPECT_FALSE(r->info.is_turning);
    EXPECT_EQ(r->info.num_trajectory_expansions, 0);
    EXPECT_EQ(r->info.num_integration_steps, 1);
    EXPECT_EQ(r->state.position(0), 0.0);  // nothing from the divergent subtree
    EXPECT_LT(r->info.acceptance_rate, 1e-100);
  }
}

TEST(NutsTrajectory, BlackjaxUnitStepTurnsAfterAFewDoublings) {
  auto target = testing::Gaussian::independent(Vec{1.0});
  auto state = nuts::init(Vec{0.0}, target);
  ASSERT_TRUE(state.ok());
  const nuts::Params params{1.0, Metric::identity(1)};
  for (std::uint64_t t = 0; t < 20; ++t) {
    auto r = nuts::build_kernel()(make_key(t), *state, target, params);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_TRUE(r->info.is_turning);
    EXPECT_FALSE(r->info.is_divergent);
    EXPECT_GE(r->info.num_trajectory_expansions, 1);
    EXPECT_LE(r->info.num_trajectory_expansions, 3);
  }
}

}  // namespace
}  // namespace nutshell

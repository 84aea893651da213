// `sample` on a mixed composition: per-chain starts of every block, window
// adaptation of the continuous block, the other blocks and derived
// quantities kept in the result and the summary.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "nutshell/compose/mixed.hpp"
#include "nutshell/mcmc/nuts.hpp"
#include "nutshell/run/sample_mixed.hpp"

namespace nutshell {
namespace {

// tau ~ Bernoulli(1/2), x | tau ~ N(3 tau, 1): E[x] = 1.5, E[tau] = 1/2.
struct Blocks {
  int tau = 0;
};
struct Conditional {
  double operator()(const Vec& x, Vec& g, const Blocks& b) const {
    const double d = x(0) - 3.0 * b.tau;
    g(0) = -d;
    return -0.5 * d * d;
  }
};
int draw_tau(const Key& k, const Vec& x, const Blocks&) {
  const double l0 = -0.5 * x(0) * x(0), l1 = -0.5 * (x(0) - 3.0) * (x(0) - 3.0);
  const double p1 = 1.0 / (1.0 + std::exp(l0 - l1));
  return Stream(k).uniform() < p1 ? 1 : 0;
}

auto kernel() { return mixed::build_kernel<Blocks>(nuts::build_kernel(), mixed::gibbs(&Blocks::tau, draw_tau)); }

SampleOptions opts() {
  SampleOptions o;
  o.num_chains = 4;
  o.num_warmup = 300;
  o.num_samples = 1000;
  o.progress_bar = false;
  return o;
}

TEST(MixedSample, OneCallKeepsEveryBlockAndRecoversTheMoments) {
  auto starts = mixed_starts(Vec{0.0}, std::vector<Blocks>{{0}, {1}, {0}, {1}})
                    .keep({"tau"}, [](const Vec&, const Blocks& b) { return Vec{double(b.tau)}; });
  auto d = sample(make_key(51), kernel(), Conditional{}, starts, opts());
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_TRUE(d->status.ok()) << d->status;
  ASSERT_EQ(d->others.size(), 4u);
  ASSERT_EQ(d->others[0].size(), 1000u);
  ASSERT_EQ(d->derived.shape(2), 1u);
  for (std::size_t i = 0; i < 1000; ++i) ASSERT_EQ(d->derived(2, i, 0), d->others[2][i].tau);
  ASSERT_TRUE(d->summary.ok());
  ASSERT_EQ(d->summary->rows.size(), 2u);
  EXPECT_EQ(d->summary->rows[1].name, "tau");
  const double truth[2] = {1.5, 0.5};
  for (int j = 0; j < 2; ++j) {
    const auto& r = d->summary->rows[j];
    EXPECT_LT(std::abs(r.mean - truth[j]), 4.0 * r.sd / std::sqrt(r.ess_bulk)) << r.name;
    EXPECT_LT(r.rhat, 1.02);
  }
  // Accounting and statistics as for any kernel (tree depth from the
  // continuous NUTS inside).
  EXPECT_GE(d->sample_stats.index("tree_depth"), 0);
  EXPECT_GT(d->accounting[0].gradient_evaluations, 1000u);
  EXPECT_EQ(d->summary->num_divergences, d->num_divergent);
}

// Issue 13: the Fisher warmups adapt the continuous block of a mixed
// composition too (its draws and conditional scores, the Gibbs sweep inside
// every warmup transition and step-size trial).
TEST(MixedSample, FisherWarmupsAdaptTheContinuousBlock) {
  for (Warmup w : {Warmup::kFisherDiagonal, Warmup::kFisherLowRank}) {
    SampleOptions o = opts();
    o.warmup = w;
    o.num_samples = 2000;  // tau's jumps between x's two modes: R-hat wants the draws
    auto starts = mixed_starts(Vec{0.0}, std::vector<Blocks>{{0}, {1}, {0}, {1}})
                      .keep({"tau"}, [](const Vec&, const Blocks& b) { return Vec{double(b.tau)}; });
    auto d = sample(make_key(53), kernel(), Conditional{}, starts, o);
    ASSERT_TRUE(d.ok()) << d.status();
    ASSERT_TRUE(d->status.ok()) << d->status;
    ASSERT_TRUE(d->summary.ok());
    const double truth[2] = {1.5, 0.5};
    for (int j = 0; j < 2; ++j) {
      const auto& r = d->summary->rows[j];
      EXPECT_LT(std::abs(r.mean - truth[j]), 4.0 * r.sd / std::sqrt(r.ess_bulk)) << r.name;
      EXPECT_LT(r.rhat, 1.02);
    }
    // x's marginal sd is sqrt(1 + 9/4) = 1.80; the conditional one is 1,
    // which the Fisher estimate from the conditional scores sees in part.
    EXPECT_LT(std::abs(d->summary->rows[0].sd - std::sqrt(3.25)), 0.15);
    for (const auto& a : d->accounting) EXPECT_TRUE(std::isfinite(a.step_size) && a.step_size > 0.0);
  }
}

TEST(MixedSample, TheNumberOfBlockStartsMustMatchTheChains) {
  auto starts = mixed_starts(Vec{0.0}, std::vector<Blocks>{{0}, {1}});
  auto d = sample(make_key(52), kernel(), Conditional{}, starts, opts());
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument) << d.status();
}

// x ~ N(0, diag(1, 0.02^2)) whatever tau: with the identity metric the
// step size is ~0.02 and a U-turn needs ~2^7 steps, so every tree saturates
// a cap of 3 doublings.
struct Stiff {
  double operator()(const Vec& x, Vec& g, const Blocks&) const {
    g(0) = -x(0);
    g(1) = -x(1) / 4e-4;
    return -0.5 * x(0) * x(0) - 0.5 * x(1) * x(1) / 4e-4;
  }
};

TEST(MixedSample, MaxTreeDepthReachesTheNutsInside) {
  SampleOptions o = opts();
  o.num_warmup = 200;
  o.num_samples = 200;
  o.num_chains = 2;
  o.metric = MetricKind::kIdentity;
  o.max_tree_depth = 3;
  auto d = sample(make_key(53), kernel(), Stiff{}, mixed_starts(Vec{0.0, 0.0}, Blocks{0}), o);
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_TRUE(d->status.ok()) << d->status;
  const long depth = d->sample_stats.index("tree_depth");
  ASSERT_GE(depth, 0);
  double max_depth = 0.0;
  for (std::size_t c = 0; c < 2; ++c)
    for (std::size_t i = 0; i < 200; ++i)
      max_depth = std::max(max_depth, d->sample_stats.values(c, i, depth));
  EXPECT_EQ(max_depth, 3.0);  // without the cap: 7 or more
  EXPECT_GT(d->accounting[0].num_max_tree_depth, 100u);
  bool warned = false;
  for (const auto& w : d->warnings) warned = warned || w.code == "tree_depth";
  EXPECT_TRUE(warned);
}

}  // namespace
}  // namespace nutshell

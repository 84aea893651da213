// What `sample` reports: per-chain accounting, per-draw statistics,
// warnings (as data and under the summary), init strategies and options.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <sstream>

#include "nutshell/mcmc/nuts.hpp"
#include "nutshell/run/sample.hpp"
#include "tests/support/gaussian.hpp"

namespace nutshell {
namespace {

using testing::Gaussian;

SampleOptions opts(std::size_t warmup, std::size_t samples, std::size_t chains = 4) {
  SampleOptions o;
  o.num_chains = chains;
  o.num_warmup = warmup;
  o.num_samples = samples;
  o.progress_bar = false;
  return o;
}

bool has_warning(const std::vector<RunWarning>& w, const std::string& code) {
  for (const auto& x : w)
    if (x.code == code) return true;
  return false;
}

TEST(SampleReport, AccountingAndStatsAgreeWithTheInfos) {
  auto d = sample(make_key(21), Gaussian::correlated_2d(), Vec{0.0, 3.0}, opts(300, 400));
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_EQ(d->accounting.size(), 4u);
  const auto& st = d->sample_stats;
  for (const char* name : {"lp", "acceptance_rate", "step_size", "tree_depth", "n_steps",
                           "diverging", "energy"})
    EXPECT_GE(st.index(name), 0) << name;
  ASSERT_EQ(st.values.shape(0), 4u);
  ASSERT_EQ(st.values.shape(1), 400u);
  const auto lp = static_cast<std::size_t>(st.index("lp"));
  const auto n_steps = static_cast<std::size_t>(st.index("n_steps"));
  const auto div = static_cast<std::size_t>(st.index("diverging"));
  double divergent = 0.0;
  for (std::size_t c = 0; c < 4; ++c) {
    const auto& a = d->accounting[c];
    EXPECT_EQ(a.chain, c);
    double steps = 0.0;
    for (std::size_t i = 0; i < 400; ++i) {
      EXPECT_EQ(st.values(c, i, lp), d->logdensity(c, i));
      steps += st.values(c, i, n_steps);
      divergent += st.values(c, i, div);
      ASSERT_EQ(st.values(c, i, n_steps), d->infos[c][i].num_integration_steps);
    }
    // Velocity Verlet: one gradient per integration step.
    EXPECT_EQ(static_cast<double>(a.gradient_evaluations), steps);
    EXPECT_GT(a.gradient_evaluations_warmup, 300u);
    EXPECT_GT(a.gradient_evaluations_step_size_search, 0u);
    EXPECT_EQ(a.step_size, d->params[c].step_size);
    EXPECT_EQ(a.inverse_mass_matrix.dim(), 2u);
    EXPECT_GT(a.sampling_wall_seconds, 0.0);
    EXPECT_GT(a.warmup_cpu_seconds, 0.0);
    EXPECT_EQ(a.num_rejected_evaluations, 0u);
  }
  EXPECT_EQ(divergent, static_cast<double>(d->num_divergent));
}

/// A half-normal written as -inf below zero: NUTS diverges at the wall.
struct HalfNormal {
  double operator()(const Vec& x, Vec& g) {
    if (x(0) < 0.0) return -std::numeric_limits<double>::infinity();
    g(0) = -x(0);
    return -0.5 * x(0) * x(0);
  }
};

TEST(SampleReport, TheSummaryTakesItsDivergenceCountFromTheRunAndWarns) {
  auto d = sample(make_key(22), HalfNormal{}, Vec{1.0}, [] {
    auto o = opts(300, 1000);
    o.init_radius = 0.5;
    return o;
  }());
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_TRUE(d->summary.ok());
  std::size_t sum = 0;
  for (const auto& a : d->accounting) sum += a.num_divergent;
  EXPECT_GT(sum, 0u);
  EXPECT_EQ(d->num_divergent, sum);
  EXPECT_EQ(d->summary->num_divergences, sum);
  EXPECT_TRUE(has_warning(d->warnings, "divergences"));
  std::ostringstream os;
  os << *d->summary;
  EXPECT_NE(os.str().find("Warnings:"), std::string::npos) << os.str();
  EXPECT_NE(os.str().find("divergent"), std::string::npos) << os.str();
}

/// 0.8 N(0, 1) + 0.2 N(12, 1): no chain crosses from one mode to the other.
struct Mixture {
  double operator()(const Vec& x, Vec& g) {
    const double a = std::log(0.8) - 0.5 * x(0) * x(0);
    const double b = std::log(0.2) - 0.5 * (x(0) - 12.0) * (x(0) - 12.0);
    const double m = std::max(a, b);
    const double lse = m + std::log(std::exp(a - m) + std::exp(b - m));
    const double wa = std::exp(a - lse), wb = std::exp(b - lse);
    g(0) = -wa * x(0) - wb * (x(0) - 12.0);
    return lse;
  }
};

TEST(SampleReport, AChainStuckInAMinorModeWarns) {
  for (std::uint64_t k = 0; k < 3; ++k) {
    auto o = opts(500, 1000);
    o.init_radius = 0.0;
    auto d = sample(make_key(30 + k), nuts::Kernel{}, Mixture{},
                    std::vector<Vec>{Vec{0.0}, Vec{0.5}, Vec{12.0}, Vec{-0.5}}, o);
    ASSERT_TRUE(d.ok()) << d.status();
    EXPECT_TRUE(has_warning(d->warnings, "stuck_chain")) << "key " << k;
    EXPECT_TRUE(has_warning(d->warnings, "rhat")) << "key " << k;
    // Every chain sitting in the minor mode is named.
    for (std::size_t r = 0; r < d->num_chains(); ++r) {
      double mean = 0.0;
      for (std::size_t i = 0; i < d->num_draws(); ++i) mean += d->positions(r, i, 0);
      if (mean / static_cast<double>(d->num_draws()) < 6.0) continue;
      bool named = false;
      for (const auto& w : d->warnings)
        named = named || (w.code == "stuck_chain" &&
                          w.message.find("chain " + std::to_string(d->chains[r]) + ":") !=
                              std::string::npos);
      EXPECT_TRUE(named) << "key " << k << ", chain " << d->chains[r];
    }
  }
}

TEST(SampleReport, AWellMixedGaussianDoesNotWarnOverFiveKeys) {
  for (std::uint64_t k = 0; k < 5; ++k) {
    auto d = sample(make_key(40 + k), Gaussian::correlated_2d(), Vec{0.0, 3.0}, opts(1000, 1000));
    ASSERT_TRUE(d.ok()) << d.status();
    for (const auto& w : d->warnings) ADD_FAILURE() << "key " << k << ": " << w.message;
  }
}

TEST(SampleReport, TreeDepthSaturationWarnsAndTheDepthIsAnOption) {
  auto o = opts(200, 300);
  o.max_tree_depth = 1;
  auto d = sample(make_key(23), Gaussian::scales_10d(), Vec(xt::zeros<double>({10})), o);
  ASSERT_TRUE(d.ok()) << d.status();
  const auto depth = static_cast<std::size_t>(d->sample_stats.index("tree_depth"));
  for (std::size_t i = 0; i < d->sample_stats.values.shape(1); ++i)
    ASSERT_LE(d->sample_stats.values(0, i, depth), 1.0);
  EXPECT_GT(d->accounting[0].num_max_tree_depth, 3u);
  EXPECT_TRUE(has_warning(d->warnings, "tree_depth"));
  o.max_tree_depth = 0;
  EXPECT_EQ(sample(make_key(23), Gaussian::scales_10d(), Vec(xt::zeros<double>({10})), o)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SampleReport, EbfmiIsTwoForIndependentEnergiesAndSmallForARandomWalk) {
  Stream s(make_key(24));
  std::vector<double> iid(4000), walk(4000);
  double w = 0.0;
  for (std::size_t i = 0; i < iid.size(); ++i) {
    iid[i] = s.normal();
    w += 0.05 * s.normal();
    walk[i] = w;
  }
  EXPECT_NEAR(ebfmi(iid.data(), iid.size()), 2.0, 0.15);
  EXPECT_LT(ebfmi(walk.data(), walk.size()), 0.3);
}

/// Finite only on (-1, 1)^2: uniform(-2, 2) starts land outside 3 times in 4.
struct Box {
  double operator()(const Vec& x, Vec& g) {
    if (std::abs(x(0)) >= 1.0 || std::abs(x(1)) >= 1.0) throw std::domain_error("outside");
    g(0) = 0.0;
    g(1) = 0.0;
    return 0.0;
  }
};

TEST(SampleReport, RandomStartsAreRedrawnUntilFiniteAndGivenOnesAreNot) {
  auto o = opts(0, 20, 8);
  auto d = sample(make_key(25), Box{}, InitialPositions::uniform(2), o);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_TRUE(d->status.ok()) << d->status;
  std::size_t redraws = 0;
  for (const auto& a : d->accounting) redraws += a.num_init_redraws;
  EXPECT_GT(redraws, 0u);
  // A given start outside fails its chain only.
  auto given = sample(make_key(25), nuts::Kernel{}, Box{},
                      std::vector<Vec>{Vec{0.0, 0.0}, Vec{5.0, 0.0}}, o);
  ASSERT_TRUE(given.ok()) << given.status();
  EXPECT_EQ(given->chains, (std::vector<std::size_t>{0}));
  // A function is called with a fresh key per attempt; one that never gives
  // a finite start fails after 100 draws.
  int calls = 0;
  auto never = InitialPositions::from_function([&](const Key&, std::size_t) {
    ++calls;
    return Vec{3.0, 3.0};
  });
  o.num_chains = 1;
  o.num_threads = 1;
  auto none = sample(make_key(25), Box{}, never, o);
  EXPECT_FALSE(none.ok());
  EXPECT_EQ(calls, 100);
  EXPECT_NE(none.status().message().find("100"), std::string::npos) << none.status();
  auto fn = InitialPositions::from_function(
      [](const Key&, std::size_t c) { return Vec{0.1 * static_cast<double>(c), 0.0}; });
  o.num_chains = 3;
  auto ok = sample(make_key(25), Box{}, fn, o);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->num_chains(), 3u);
  // Given positions plus jitter.
  auto j = sample(make_key(25), Box{}, InitialPositions::jittered({Vec{0.0, 0.0}, Vec{0.5, 0.5}}),
                  [] {
                    auto p = opts(0, 20);
                    p.init_radius = 0.3;
                    return p;
                  }());
  ASSERT_TRUE(j.ok()) << j.status();
  EXPECT_EQ(j->num_chains(), 2u);
}

TEST(SampleReport, MetricKindAndTargetAcceptanceAreOptions) {
  auto o = opts(300, 50);
  o.metric = MetricKind::kDense;
  auto dense = sample(make_key(26), Gaussian::correlated_2d(), Vec{0.0, 3.0}, o);
  ASSERT_TRUE(dense.ok()) << dense.status();
  EXPECT_EQ(dense->params[0].inverse_mass_matrix.kind(), Metric::Kind::kDense);
  o.metric = MetricKind::kIdentity;
  auto unit = sample(make_key(26), Gaussian::correlated_2d(), Vec{0.0, 3.0}, o);
  ASSERT_TRUE(unit.ok()) << unit.status();
  EXPECT_EQ(unit->params[0].inverse_mass_matrix.kind(), Metric::Kind::kIdentity);
  o.metric.reset();
  o.target_acceptance_rate = 0.6;
  auto low = sample(make_key(26), Gaussian::correlated_2d(), Vec{0.0, 3.0}, o);
  o.target_acceptance_rate = 0.95;
  auto high = sample(make_key(26), Gaussian::correlated_2d(), Vec{0.0, 3.0}, o);
  ASSERT_TRUE(low.ok() && high.ok());
  for (std::size_t c = 0; c < 4; ++c)
    EXPECT_LT(high->params[c].step_size, low->params[c].step_size) << c;
}

}  // namespace
}  // namespace nutshell

namespace nutshell {
namespace {

TEST(SampleMemory, PerDrawInfosHoldScalarsUnlessAskedAndWarmupKeepsNoInfos) {
  auto o = opts(100, 50, 2);
  auto d = sample(make_key(27), Gaussian::scales_10d(), Vec(xt::zeros<double>({10})), o);
  ASSERT_TRUE(d.ok()) << d.status();
  for (const auto& chain : d->infos)
    for (const auto& info : chain) ASSERT_EQ(info.momentum.size(), 0u);
  o.keep_info_vectors = true;
  auto k = sample(make_key(27), Gaussian::scales_10d(), Vec(xt::zeros<double>({10})), o);
  ASSERT_TRUE(k.ok()) << k.status();
  EXPECT_EQ(k->infos[0][0].momentum.size(), 10u);
  // Same draws either way.
  for (std::size_t i = 0; i < d->positions.size(); ++i)
    ASSERT_EQ(d->positions.data()[i], k->positions.data()[i]);
  EXPECT_FALSE(o.effective_adaptation().keep_infos);
}

}  // namespace
}  // namespace nutshell

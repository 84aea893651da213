#include "nutshell/run/converge.hpp"

#include <gtest/gtest.h>
#include <xtensor/xsort.hpp>

#include <cmath>
#include <cstring>
#include <sstream>
#include <string>

#include "nutshell/diagnostics/diagnostics.hpp"
#include "nutshell/mcmc/nuts.hpp"
#include "nutshell/run/sample.hpp"
#include "tests/posteriors/eight_schools_nc.hpp"
#include "tests/support/gaussian.hpp"

namespace nutshell {
namespace {

using testing::Gaussian;

SampleOptions quick(std::size_t threads) {
  return SampleOptions{.num_chains = 4, .num_warmup = 300, .num_threads = threads,
                       .progress_bar = false};
}

bool same_bits(const double* a, const double* b, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    if (std::memcmp(&a[i], &b[i], sizeof(double)) != 0) return false;
  return true;
}

// ---------------------------------------------------------------------------
// Options and the block schedule

TEST(ConvergenceOptions, BadOptionsAreInvalidArgument) {
  auto expect_bad = [](ConvergenceOptions o, const std::string& field) {
    auto s = validate(o);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << field;
    EXPECT_NE(s.message().find(field), std::string::npos) << s.message();
  };
  EXPECT_TRUE(validate(ConvergenceOptions{}).ok());
  expect_bad({.block_size = 0}, "block_size");
  expect_bad({.block_size = 3}, "block_size");
  expect_bad({.max_rhat = 1.0}, "max_rhat");
  expect_bad({.max_rhat = 0.9}, "max_rhat");
  expect_bad({.max_rhat = NAN}, "max_rhat");
  expect_bad({.min_ess_bulk = -1}, "min_ess_bulk");
  expect_bad({.min_ess_tail = INFINITY}, "min_ess_tail");
  expect_bad({.block_growth = 0.5}, "block_growth");
  expect_bad({.block_size = 100, .max_draws = 50}, "max_draws");
  // sample_until_converged refuses them before sampling.
  auto r = sample_until_converged(make_key(0), nuts::Kernel{}, Gaussian::correlated_2d(),
                                  Vec{0.0, 0.0}, quick(1), ConvergenceOptions{.block_size = 0});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  // check_convergence too.
  auto draws = diagnostics::Draws::from_shape({2, 10, 1});
  draws.fill(0.5);
  EXPECT_EQ(check_convergence(draws, {.max_rhat = 1.0}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ConvergenceOptions, BlocksGrowGeometricallyAndStopAtMaxDraws) {
  const ConvergenceOptions o{.block_size = 100, .block_growth = 1.5, .max_draws = 1000};
  EXPECT_EQ(next_block_size(0, o), 100u);
  EXPECT_EQ(next_block_size(100, o), 100u);  // 0.5 * 100 < block_size
  EXPECT_EQ(next_block_size(300, o), 150u);
  EXPECT_EQ(next_block_size(450, o), 225u);
  EXPECT_EQ(next_block_size(900, o), 100u);  // cut to max_draws
  EXPECT_EQ(next_block_size(1000, o), 0u);
  const ConvergenceOptions flat{.block_size = 64, .block_growth = 1.0, .max_draws = 1000};
  EXPECT_EQ(next_block_size(640, flat), 64u);
}

// ---------------------------------------------------------------------------
// The check equals the diagnostics

TEST(CheckConvergence, EqualsTheDiagnosticsOnAFixedArray) {
  // 4 chains, 60 draws, 3 dimensions: an AR(1) per chain and dimension
  // with a chain-dependent offset in dimension 2 (a bad R-hat there).
  auto draws = diagnostics::Draws::from_shape({4, 60, 3});
  std::uint64_t s = 12345;
  auto uniform = [&] {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(s >> 11) / 9007199254740992.0 - 0.5;
  };
  for (std::size_t c = 0; c < 4; ++c)
    for (std::size_t j = 0; j < 3; ++j) {
      double x = 0.0;
      for (std::size_t i = 0; i < 60; ++i) {
        x = (j == 1 ? 0.9 : 0.2) * x + uniform();
        draws(c, i, j) = x + (j == 2 ? 0.5 * static_cast<double>(c) : 0.0);
      }
    }
  auto rhat = diagnostics::rhat(draws);
  auto bulk = diagnostics::ess_bulk(draws);
  auto tail = diagnostics::ess_tail(draws);
  ASSERT_TRUE(rhat.ok() && bulk.ok() && tail.ok());
  auto v = check_convergence(draws, ConvergenceOptions{});
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->num_chains, 4u);
  EXPECT_EQ(v->num_draws, 60u);
  EXPECT_EQ(v->max_rhat, xt::amax(*rhat)());
  EXPECT_EQ(v->min_ess_bulk, xt::amin(*bulk)());
  EXPECT_EQ(v->min_ess_tail, xt::amin(*tail)());
  EXPECT_EQ(v->worst_rhat_index, 2u);  // the offset chains
  EXPECT_EQ(v->worst_ess_bulk_index, xt::argmin(*bulk)());
  EXPECT_EQ(v->worst_ess_tail_index, xt::argmin(*tail)());
  EXPECT_LT((*bulk)(1), (*bulk)(0));  // the autocorrelated dimension
  EXPECT_GT(v->max_rhat, 1.1);
  EXPECT_FALSE(v->converged);
  // Threads share the dimensions; the verdict is the same.
  for (std::size_t threads : {2u, 3u, 8u}) {
    auto w = check_convergence(draws, ConvergenceOptions{}, threads);
    ASSERT_TRUE(w.ok());
    EXPECT_EQ(w->max_rhat, v->max_rhat);
    EXPECT_EQ(w->min_ess_bulk, v->min_ess_bulk);
    EXPECT_EQ(w->min_ess_tail, v->min_ess_tail);
  }
  // Targets the array meets (R-hat just above the worst, ESS just below).
  ConvergenceOptions loose{.max_rhat = v->max_rhat + 1e-9, .min_ess_bulk = v->min_ess_bulk,
                           .min_ess_tail = v->min_ess_tail};
  EXPECT_TRUE(check_convergence(draws, loose)->converged);
  loose.max_rhat = v->max_rhat;  // R-hat must be strictly below
  EXPECT_FALSE(check_convergence(draws, loose)->converged);
  // Too few draws: the diagnostics' error.
  auto three = diagnostics::Draws::from_shape({2, 3, 1});
  three.fill(1.0);
  EXPECT_EQ(check_convergence(three, {}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(CheckConvergence, ConstantDrawsNeverConverge) {
  auto draws = diagnostics::Draws::from_shape({4, 50, 1});
  draws.fill(2.0);
  auto v = check_convergence(draws, {.min_ess_bulk = 0, .min_ess_tail = 0});
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(std::isnan(v->max_rhat));
  EXPECT_FALSE(v->converged);
}

TEST(CheckConvergence, FormatShowsValuesAndTargets) {
  ConvergenceVerdict v{.num_draws = 400, .num_chains = 4, .max_rhat = 1.0042,
                       .min_ess_bulk = 812.4, .min_ess_tail = 655.0, .converged = true};
  EXPECT_EQ(format_verdict(v, ConvergenceOptions{}),
            "converge: 400 draws/chain | R-hat 1.004 (< 1.01) | ESS bulk 812 (>= 400) | "
            "ESS tail 655 (>= 400) | converged");
}

TEST(CheckConvergence, FormatNamesThePartialVerdictsFailingParameter) {
  ConvergenceVerdict v{.num_draws = 200, .num_chains = 4, .max_rhat = 1.02, .min_ess_bulk = 812,
                       .min_ess_tail = 255, .worst_rhat_index = 1, .worst_ess_bulk_index = 1,
                       .worst_ess_tail_index = 1, .partial = true, .parameters_checked = 2};
  EXPECT_EQ(format_verdict(v, ConvergenceOptions{}),
            "converge: 200 draws/chain | x[1] misses R-hat, ESS tail (parameter 2 checked) | "
            "R-hat 1.020 (< 1.01) | ESS bulk 812 (>= 400) | ESS tail 255 (>= 400) | not yet");
  EXPECT_NE(format_verdict(v, ConvergenceOptions{}, {"mu", "tau"})
                .find("| tau misses R-hat, ESS tail (parameter 2 checked) |"),
            std::string::npos);
}

// ---------------------------------------------------------------------------
// Sampling until converged

TEST(SampleUntilConverged, GaussianStopsAtTheSameDrawOnAnyThreadCountAndEqualsSample) {
  const ConvergenceOptions conv{.min_ess_bulk = 400, .min_ess_tail = 400, .block_size = 50};
  const auto model = Gaussian::correlated_2d();
  auto one = sample_until_converged(make_key(7), nuts::Kernel{}, model, Vec{0.0, 0.0}, quick(1),
                                    conv);
  ASSERT_TRUE(one.ok()) << one.status();
  ASSERT_TRUE(one->draws.status.ok());
  EXPECT_EQ(one->reason, ConvergenceStop::kConverged);
  EXPECT_TRUE(one->verdict.converged);
  EXPECT_LT(one->verdict.max_rhat, 1.01);
  EXPECT_GE(one->verdict.min_ess_tail, 400.0);
  const std::size_t n = one->draws.num_draws();
  EXPECT_EQ(one->verdict.num_draws, n);
  ASSERT_GE(one->history.size(), 2u);  // the first block alone is not enough
  EXPECT_FALSE(one->history.front().converged);
  for (std::size_t k = 0; k + 1 < one->history.size(); ++k)
    EXPECT_FALSE(one->history[k].converged);

  for (std::size_t threads : {2u, 3u}) {
    auto other = sample_until_converged(make_key(7), nuts::Kernel{}, model, Vec{0.0, 0.0},
                                        quick(threads), conv);
    ASSERT_TRUE(other.ok()) << other.status();
    EXPECT_EQ(other->draws.num_draws(), n) << threads << " threads";
    EXPECT_EQ(other->history.size(), one->history.size());
    ASSERT_EQ(other->draws.positions.size(), one->draws.positions.size());
    EXPECT_TRUE(same_bits(other->draws.positions.data(), one->draws.positions.data(),
                          one->draws.positions.size()));
    EXPECT_EQ(other->verdict.max_rhat, one->verdict.max_rhat);
  }

  // Bitwise the first n draws of one plain `sample` of n draws.
  SampleOptions plain = quick(2);
  plain.num_samples = n;
  auto ref = sample(make_key(7), nuts::Kernel{}, model, Vec{0.0, 0.0}, plain);
  ASSERT_TRUE(ref.ok()) << ref.status();
  const auto& d = one->draws;
  ASSERT_EQ(d.positions.shape(), ref->positions.shape());
  EXPECT_TRUE(same_bits(d.positions.data(), ref->positions.data(), d.positions.size()));
  ASSERT_EQ(d.logdensity.shape(), ref->logdensity.shape());
  EXPECT_TRUE(same_bits(d.logdensity.data(), ref->logdensity.data(), d.logdensity.size()));
  EXPECT_EQ(d.sample_stats.names, ref->sample_stats.names);
  ASSERT_EQ(d.sample_stats.values.shape(), ref->sample_stats.values.shape());
  EXPECT_TRUE(same_bits(d.sample_stats.values.data(), ref->sample_stats.values.data(),
                        d.sample_stats.values.size()));
  EXPECT_EQ(d.chains, ref->chains);
  EXPECT_EQ(d.num_divergent, ref->num_divergent);
  ASSERT_EQ(d.infos.size(), ref->infos.size());
  for (std::size_t c = 0; c < d.infos.size(); ++c) EXPECT_EQ(d.infos[c].size(), n);
  ASSERT_EQ(d.accounting.size(), ref->accounting.size());
  for (std::size_t c = 0; c < d.accounting.size(); ++c) {
    EXPECT_EQ(d.accounting[c].gradient_evaluations, ref->accounting[c].gradient_evaluations);
    EXPECT_EQ(d.accounting[c].gradient_evaluations_warmup,
              ref->accounting[c].gradient_evaluations_warmup);
    EXPECT_EQ(d.accounting[c].num_max_tree_depth, ref->accounting[c].num_max_tree_depth);
    EXPECT_EQ(d.accounting[c].step_size, ref->accounting[c].step_size);
    EXPECT_EQ(d.checkpoints[c].next_step, ref->checkpoints[c].next_step);
    EXPECT_TRUE(same_bits(d.checkpoints[c].state.position.data(),
                          ref->checkpoints[c].state.position.data(), 2));
  }
  // The table (whose sorted columns come from the last check) is the
  // plain run's, every column to the bit.
  ASSERT_TRUE(d.summary.ok() && ref->summary.ok());
  ASSERT_EQ(d.summary->rows.size(), ref->summary->rows.size());
  for (std::size_t k = 0; k < d.summary->rows.size(); ++k) {
    const auto &a = d.summary->rows[k], &b = ref->summary->rows[k];
    const double x[] = {a.mean, a.sd, a.median, a.q5, a.q95, a.ess_bulk, a.ess_tail, a.rhat};
    const double y[] = {b.mean, b.sd, b.median, b.q5, b.q95, b.ess_bulk, b.ess_tail, b.rhat};
    EXPECT_TRUE(same_bits(x, y, 8)) << "row " << k;
  }
  EXPECT_EQ(d.summary->to_string(), ref->summary->to_string());
  EXPECT_EQ(d.warnings.size(), ref->warnings.size());

  // And the draws are right: means within 4 MCSE of (0, 3).
  auto mcse = diagnostics::mcse_mean(d.positions);
  ASSERT_TRUE(mcse.ok());
  EXPECT_NEAR(d.summary->rows[0].mean, 0.0, 4 * (*mcse)(0));
  EXPECT_NEAR(d.summary->rows[1].mean, 3.0, 4 * (*mcse)(1));
}

TEST(SampleUntilConverged, MaxDrawsGivesNotConverged) {
  const ConvergenceOptions conv{.min_ess_bulk = 1e9, .block_size = 40, .block_growth = 1.5,
                                .max_draws = 130};
  auto r = sample_until_converged(make_key(3), nuts::Kernel{}, Gaussian::correlated_2d(),
                                  Vec{0.0, 0.0}, quick(2), conv);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->reason, ConvergenceStop::kMaxDraws);
  EXPECT_FALSE(r->verdict.converged);
  EXPECT_EQ(r->draws.num_draws(), 130u);  // 40, 40, 40, then cut to 10
  ASSERT_EQ(r->history.size(), 4u);
  EXPECT_EQ(r->history.back().num_draws, 130u);
  ASSERT_TRUE(r->draws.summary.ok());
  // summarize = false holds for the joined run too, not only its blocks.
  SampleOptions bare = quick(2);
  bare.summarize = false;
  auto b = sample_until_converged(make_key(3), nuts::Kernel{}, Gaussian::correlated_2d(),
                                  Vec{0.0, 0.0}, bare, conv);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->draws.num_draws(), 130u);
  EXPECT_FALSE(b->draws.summary.ok());
  EXPECT_TRUE(b->draws.warnings.empty());
}

TEST(SampleUntilConverged, ThinningKeepsBlocksInKeptDraws) {
  SampleOptions o = quick(2);
  o.thinning = 3;
  const ConvergenceOptions conv{.min_ess_bulk = 1e9, .block_size = 20, .max_draws = 40};
  auto r = sample_until_converged(make_key(4), nuts::Kernel{}, Gaussian::correlated_2d(),
                                  Vec{0.0, 0.0}, o, conv);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->draws.num_draws(), 40u);
  SampleOptions plain = o;
  plain.num_samples = 120;
  auto ref = sample(make_key(4), nuts::Kernel{}, Gaussian::correlated_2d(), Vec{0.0, 0.0}, plain);
  ASSERT_TRUE(ref.ok());
  ASSERT_EQ(r->draws.positions.shape(), ref->positions.shape());
  EXPECT_TRUE(same_bits(r->draws.positions.data(), ref->positions.data(),
                        ref->positions.size()));
  EXPECT_EQ(r->draws.checkpoints[0].next_step, 120u);
}

TEST(SampleUntilConverged, ProgressPrintsOneLinePerCheck) {
  const auto model = Gaussian::correlated_2d();
  LocalBackend<nuts::Kernel, Gaussian> backend{make_key(5), {}, model, Vec{0.0, 0.0}, quick(2),
                                               {}};
  const ConvergenceOptions conv{.min_ess_bulk = 1e9, .block_size = 30, .max_draws = 60};
  std::ostringstream out;
  auto r = run_until_converged(backend, quick(2), conv, &out);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->history.size(), 2u);
  EXPECT_EQ(out.str(), format_verdict(r->history[0], conv) + "\n" +
                           format_verdict(r->history[1], conv) + "\n");
  EXPECT_GE(r->check_seconds, 0.0);
  EXPECT_GT(r->sampling_seconds, 0.0);
}

TEST(SampleUntilConverged, EarlyChecksStopAtAFailingParameterTheLastIsComplete) {
  // 10 parameters, unreachable bulk ESS: every check but the last stops at
  // its first parameter; the last (max_draws) has the worst of all ten.
  const ConvergenceOptions conv{.min_ess_bulk = 1e9, .block_size = 40, .max_draws = 130};
  auto r = sample_until_converged(make_key(6), nuts::Kernel{}, Gaussian::scales_10d(),
                                  InitialPositions::uniform(10), quick(2), conv);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->history.size(), 4u);
  for (std::size_t k = 0; k + 1 < r->history.size(); ++k) {
    EXPECT_TRUE(r->history[k].partial) << k;
    EXPECT_EQ(r->history[k].parameters_checked, 1u) << k;
    EXPECT_EQ(r->history[k].worst_ess_bulk_index, 0u) << k;  // the first, then the same again
  }
  EXPECT_FALSE(r->verdict.partial);
  EXPECT_EQ(r->verdict.parameters_checked, 10u);
  const auto full = check_convergence(r->draws.positions, conv);
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(r->verdict.min_ess_bulk, full->min_ess_bulk);
  EXPECT_EQ(r->verdict.worst_ess_bulk_index, full->worst_ess_bulk_index);
  EXPECT_EQ(r->verdict.max_rhat, full->max_rhat);
  EXPECT_EQ(r->verdict.min_ess_tail, full->min_ess_tail);
}

TEST(SampleUntilConverged, EightSchoolsNcStopsAtTheSameDrawOnAnyThreadCount) {
  auto model = posteriors::EightSchoolsNc::load();
  ASSERT_TRUE(model.ok()) << model.status();
  auto ref = model->reference();
  ASSERT_TRUE(ref.ok()) << ref.status();
  const ConvergenceOptions conv{.min_ess_bulk = 400, .min_ess_tail = 400, .block_size = 100};
  SampleOptions o = quick(1);
  o.num_warmup = 500;
  o.target_acceptance_rate = 0.95;
  auto one = sample_until_converged(make_key(11), nuts::Kernel{}, *model,
                                    InitialPositions::uniform(model->dim()), o, conv);
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(one->reason, ConvergenceStop::kConverged);
  const std::size_t n = one->draws.num_draws();
  for (std::size_t threads : {2u, 3u}) {
    o.num_threads = threads;
    auto other = sample_until_converged(make_key(11), nuts::Kernel{}, *model,
                                        InitialPositions::uniform(model->dim()), o, conv);
    ASSERT_TRUE(other.ok()) << other.status();
    EXPECT_EQ(other->draws.num_draws(), n) << threads << " threads";
    EXPECT_EQ(other->verdict.min_ess_tail, one->verdict.min_ess_tail);
    ASSERT_EQ(other->draws.positions.size(), one->draws.positions.size());
    EXPECT_TRUE(same_bits(other->draws.positions.data(), one->draws.positions.data(),
                          one->draws.positions.size()));
  }
  // The stopped run estimates mu and log tau within 4 MCSE of the reference.
  const auto& s = *one->draws.summary;
  auto mcse = diagnostics::mcse_mean(one->draws.positions);
  ASSERT_TRUE(mcse.ok());
  for (std::size_t j : {0u, 1u})
    EXPECT_NEAR(s.rows[j].mean, ref->mean(j), 4 * std::hypot((*mcse)(j), ref->mcse_mean(j)))
        << j;
}

}  // namespace
}  // namespace nutshell

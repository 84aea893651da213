#include "nutshell/run/resume.hpp"
#include "nutshell/run/sample.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <sstream>

#include "nutshell/mcmc/hmc.hpp"
#include "nutshell/mcmc/mala.hpp"
#include "nutshell/mcmc/nuts.hpp"
#include "nutshell/run/scan.hpp"
#include "tests/support/gaussian.hpp"

namespace nutshell {
namespace {

using testing::Gaussian;

SampleOptions small(std::size_t warmup = 200, std::size_t samples = 200) {
  SampleOptions o;
  o.num_chains = 4;
  o.num_warmup = warmup;
  o.num_samples = samples;
  o.progress_bar = false;
  return o;
}

template <class D>
void expect_same_draws(const D& a, const D& b) {
  ASSERT_EQ(a.positions.shape(), b.positions.shape());
  for (std::size_t i = 0; i < a.positions.size(); ++i)
    ASSERT_EQ(a.positions.data()[i], b.positions.data()[i]) << "entry " << i;
}

TEST(Sample, NutsWithWindowAdaptationRecoversACorrelatedGaussian) {
  SampleOptions o = small(500, 500);
  o.names = {"a", "b"};
  auto d = sample(make_key(1), Gaussian::correlated_2d(), Vec{0.0, 3.0}, o);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_TRUE(d->status.ok());
  EXPECT_EQ(d->num_chains(), 4u);
  EXPECT_EQ(d->num_draws(), 500u);
  EXPECT_EQ(d->positions.shape(2), 2u);
  EXPECT_EQ(d->infos.size(), 4u);
  EXPECT_EQ(d->infos[0].size(), 500u);
  EXPECT_EQ(d->params.size(), 4u);
  EXPECT_EQ(d->chains, (std::vector<std::size_t>{0, 1, 2, 3}));
  ASSERT_TRUE(d->summary.ok()) << d->summary.status();
  ASSERT_EQ(d->summary->rows.size(), 2u);
  EXPECT_EQ(d->summary->rows[0].name, "a");
  const double truth[2] = {0.0, 3.0}, sd[2] = {1.0, 2.0};
  for (int j = 0; j < 2; ++j) {
    const auto& row = d->summary->rows[j];
    EXPECT_LT(row.rhat, 1.05);
    EXPECT_GT(row.ess_bulk, 300.0);
    EXPECT_LT(std::abs(row.mean - truth[j]), 4.0 * sd[j] / std::sqrt(row.ess_bulk)) << row.mean;
    EXPECT_NEAR(row.sd, sd[j], 0.15 * sd[j]);
  }
  // The logdensity array is the cached value of each kept draw.
  Gaussian g = Gaussian::correlated_2d();
  Vec x = {d->positions(1, 7, 0), d->positions(1, 7, 1)}, grad = Vec::from_shape({2});
  EXPECT_EQ(d->logdensity(1, 7), g(x, grad));
  // Tuned parameters are per chain; the metric was adapted.
  EXPECT_NE(d->params[0].step_size, d->params[1].step_size);
  EXPECT_GT(d->params[0].inverse_mass_matrix.inverse_mass_diagonal()(1), 1.5);
  std::ostringstream table;
  table << *d->summary;
  EXPECT_NE(table.str().find("r_hat"), std::string::npos);
}

TEST(Sample, ResultsAreBitwiseIdenticalForOneOrTwoThreads) {
  SampleOptions o = small(150, 100);
  o.num_threads = 1;
  auto one = sample(make_key(2), Gaussian::scales_10d(), Vec(xt::zeros<double>({10})), o);
  o.num_threads = 2;
  auto two = sample(make_key(2), Gaussian::scales_10d(), Vec(xt::zeros<double>({10})), o);
  ASSERT_TRUE(one.ok() && two.ok());
  expect_same_draws(*one, *two);
  for (std::size_t c = 0; c < 4; ++c) {
    EXPECT_EQ(one->params[c].step_size, two->params[c].step_size);
    EXPECT_EQ(one->checkpoints[c].state.logdensity, two->checkpoints[c].state.logdensity);
  }
}

TEST(Sample, SummarizeFalseSkipsOnlyTheSummaryAndWarnings) {
  SampleOptions o = small(100, 80);
  o.num_warmup = 5;  // too short to adapt: the full run warns
  auto full = sample(make_key(4), Gaussian::scales_10d(), Vec(xt::zeros<double>({10})), o);
  o.summarize = false;
  auto bare = sample(make_key(4), Gaussian::scales_10d(), Vec(xt::zeros<double>({10})), o);
  ASSERT_TRUE(full.ok() && bare.ok());
  expect_same_draws(*full, *bare);
  EXPECT_TRUE(full->summary.ok());
  EXPECT_FALSE(full->warnings.empty());
  EXPECT_FALSE(bare->summary.ok());
  EXPECT_TRUE(bare->warnings.empty());
  // The blocks of a resumed run are the same with or without summaries.
  auto more_full = resume(full->checkpoints, nuts::Kernel{}, Gaussian::scales_10d(), small(50, 5));
  SampleOptions bare_more = small(50, 5);
  bare_more.summarize = false;
  auto more_bare = resume(bare->checkpoints, nuts::Kernel{}, Gaussian::scales_10d(), bare_more);
  ASSERT_TRUE(more_full.ok() && more_bare.ok());
  expect_same_draws(*more_full, *more_bare);
  EXPECT_FALSE(more_bare->summary.ok());
}

TEST(Sample, ThinningKeepsEveryKthDrawOfTheSameChains) {
  SampleOptions o = small(100, 90);
  auto all = sample(make_key(3), Gaussian::correlated_2d(), Vec{0.0, 3.0}, o);
  o.thinning = 3;
  auto thin = sample(make_key(3), Gaussian::correlated_2d(), Vec{0.0, 3.0}, o);
  ASSERT_TRUE(all.ok() && thin.ok());
  ASSERT_EQ(thin->num_draws(), 30u);
  for (std::size_t c = 0; c < 4; ++c)
    for (std::size_t i = 0; i < 30; ++i)
      for (std::size_t j = 0; j < 2; ++j)
        ASSERT_EQ(thin->positions(c, i, j), all->positions(c, 3 * i + 2, j));
  EXPECT_EQ(thin->checkpoints[0].next_step, 90u);
}

TEST(Sample, AFailedChainIsReportedAndTheOthersReturned) {
  SampleOptions o = small(100, 50);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<Vec> starts = {Vec{0.0, 3.0}, Vec{1.0, 2.0}, Vec{nan, 0.0}, Vec{-1.0, 4.0}};
  auto d = sample(make_key(4), nuts::Kernel{}, Gaussian::correlated_2d(), starts, o);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_FALSE(d->status.ok());
  EXPECT_NE(d->status.message().find("chain 2"), std::string::npos) << d->status;
  EXPECT_EQ(d->chains, (std::vector<std::size_t>{0, 1, 3}));
  EXPECT_EQ(d->num_chains(), 3u);
  EXPECT_FALSE(d->chain_status[2].ok());
  EXPECT_TRUE(d->chain_status[3].ok());
  // Every chain failing is an error.
  auto none = sample(make_key(4), nuts::Kernel{}, Gaussian::correlated_2d(),
                     std::vector<Vec>{Vec{nan, 0.0}}, o);
  EXPECT_FALSE(none.ok());
}

TEST(Sample, WorksWithOtherAdaptableKernels) {
  SampleOptions o = small(300, 300);
  auto d = sample(make_key(5), mala::build_kernel(), Gaussian::correlated_2d(), Vec{0.0, 3.0}, o);
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_TRUE(d->summary.ok());
  EXPECT_LT(std::abs(d->summary->rows[1].mean - 3.0), 0.6);
}

// ---------------------------------------------------------------------------
// run_chain: callbacks and stopping

auto hmc_alg() {
  return hmc::sampler(Gaussian::correlated_2d(), hmc::Params{0.3, Metric::identity(2), 5});
}

TEST(RunChain, MatchesRunInferenceAlgorithmBitwise) {
  auto alg = hmc_alg();
  auto s0 = alg.init(Vec{0.0, 0.0});
  auto a = run_inference_algorithm(make_key(6), alg, *s0, 120, RunOptions{.thinning = 4, .first_step = 7});
  auto b = run_chain(make_key(6), alg, *s0, 120, ChainOptions{.thinning = 4, .first_step = 7});
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->positions.shape(), b->positions.shape());
  for (std::size_t i = 0; i < a->positions.size(); ++i)
    EXPECT_EQ(a->positions.data()[i], b->positions.data()[i]);
  EXPECT_EQ(a->next_step, b->next_step);
}

TEST(RunChain, ACallbackStopTruncatesConsistentlyAndResumesBitwise) {
  auto alg = hmc_alg();
  auto s0 = alg.init(Vec{0.0, 0.0});
  auto whole = run_chain(make_key(7), alg, *s0, 200);
  ASSERT_TRUE(whole.ok());
  int calls = 0;
  auto stop_at_37 = [&](const StepEvent<hmc::State, hmc::Info>& e) {
    ++calls;
    EXPECT_FALSE(e.is_warmup);
    return e.step == 36 ? Control::kStop : Control::kContinue;
  };
  auto first = run_chain(make_key(7), alg, *s0, 200, ChainOptions{}, stop_at_37);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(calls, 37);
  EXPECT_EQ(first->positions.shape(0), 37u);
  EXPECT_EQ(first->infos.size(), 37u);
  EXPECT_EQ(first->next_step, 37u);
  EXPECT_EQ(first->final_state.position(0), first->positions(36, 0));
  auto rest = run_chain(make_key(7), alg, first->final_state, 200 - 37,
                        ChainOptions{.first_step = first->next_step});
  ASSERT_TRUE(rest.ok());
  for (std::size_t i = 0; i < 200; ++i)
    for (std::size_t j = 0; j < 2; ++j) {
      const double got = i < 37 ? first->positions(i, j) : rest->positions(i - 37, j);
      ASSERT_EQ(got, whole->positions(i, j)) << "draw " << i;
    }
  // A void callback only observes; a throwing one fails the run.
  std::size_t seen = 0;
  auto observe = [&](const StepEvent<hmc::State, hmc::Info>&) { ++seen; };
  ASSERT_TRUE(run_chain(make_key(7), alg, *s0, 25, ChainOptions{}, observe).ok());
  EXPECT_EQ(seen, 25u);
  auto throws = [](const StepEvent<hmc::State, hmc::Info>&) -> Control {
    throw std::runtime_error("observer failed");
  };
  auto bad = run_chain(make_key(7), alg, *s0, 25, ChainOptions{}, throws);
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("observer failed"), std::string::npos);
}

TEST(RunChain, ProgressBarDoesNotChangeResults) {
  auto alg = hmc_alg();
  auto s0 = alg.init(Vec{0.0, 0.0});
  std::ostringstream sink;
  ProgressBar bar(300, sink, ProgressOptions{.min_interval_seconds = 0.0});
  auto with = run_chain(make_key(8), alg, *s0, 300, ChainOptions{.progress = &bar});
  auto without = run_chain(make_key(8), alg, *s0, 300);
  ASSERT_TRUE(with.ok() && without.ok());
  for (std::size_t i = 0; i < with->positions.size(); ++i)
    ASSERT_EQ(with->positions.data()[i], without->positions.data()[i]);
  EXPECT_EQ(bar.completed(), 300u);
  EXPECT_EQ(bar.divergences(), with->num_divergent);
  EXPECT_FALSE(sink.str().empty());
}

TEST(RunChains, ManyChainsOnThreadsAreThreadCountInvariant) {
  auto alg = hmc_alg();
  auto s0 = alg.init(Vec{0.0, 0.0});
  std::vector<hmc::State> starts(5, *s0);
  auto one = run_chains(make_key(9), alg, starts, 100, {}, PmapOptions{.num_threads = 1});
  auto two = run_chains(make_key(9), alg, starts, 100, {}, PmapOptions{.num_threads = 2});
  ASSERT_TRUE(one.ok() && two.ok());
  for (std::size_t c = 0; c < 5; ++c)
    for (std::size_t i = 0; i < one.chains[c]->positions.size(); ++i)
      ASSERT_EQ(one.chains[c]->positions.data()[i], two.chains[c]->positions.data()[i]);
}

// ---------------------------------------------------------------------------
// sample with a callback

TEST(Sample, CallbackSeesEveryWarmupAndSamplingStep) {
  SampleOptions o = small(100, 50);
  o.num_chains = 3;
  o.num_threads = 2;
  std::atomic<int> warm{0}, samp{0};
  auto d = sample(make_key(10), nuts::Kernel{}, Gaussian::correlated_2d(), Vec{0.0, 3.0}, o,
                  [&](const StepEvent<GradientState, nuts::Info>& e) {
                    (e.is_warmup ? warm : samp)++;
                    return Control::kContinue;
                  });
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(warm.load(), 300);
  EXPECT_EQ(samp.load(), 150);
  EXPECT_FALSE(d->stopped);
}

TEST(Sample, AStopCutsEveryChainAtTheSameStepWhateverTheThreadsAndResumesBitwise) {
  for (std::size_t thinning : {1u, 3u}) {
    SampleOptions o = small(100, 99);
    o.thinning = thinning;
    auto whole = sample(make_key(11), Gaussian::correlated_2d(), Vec{0.0, 3.0}, o);
    ASSERT_TRUE(whole.ok());
    // Chain 1 asks to stop after its 40th sampling step; chain 3 would ask
    // later (after 70): the smallest request wins.
    auto stop = [](const StepEvent<GradientState, nuts::Info>& e) {
      if (e.is_warmup) return Control::kContinue;
      if (e.chain == 1 && e.step == 39) return Control::kStop;
      if (e.chain == 3 && e.step == 69) return Control::kStop;
      return Control::kContinue;
    };
    std::vector<DrawsOf<nuts::Kernel, Gaussian>> cut;
    for (std::size_t threads : {1u, 2u}) {
      o.num_threads = threads;
      auto d = sample(make_key(11), Gaussian::correlated_2d(), Vec{0.0, 3.0}, o, stop);
      ASSERT_TRUE(d.ok()) << d.status();
      cut.push_back(*std::move(d));
    }
    const std::size_t keep = 40 / thinning;
    for (const auto& d : cut) {
      EXPECT_TRUE(d.stopped);
      ASSERT_EQ(d.num_draws(), keep);
      ASSERT_EQ(d.num_chains(), 4u);
      for (const auto& ck : d.checkpoints) EXPECT_EQ(ck.next_step, keep * thinning);
      for (const auto& i : d.infos) EXPECT_EQ(i.size(), keep);
    }
    expect_same_draws(cut[0], cut[1]);
    // The kept draws are the uninterrupted run's first ones...
    for (std::size_t c = 0; c < 4; ++c)
      for (std::size_t i = 0; i < keep; ++i)
        ASSERT_EQ(cut[0].positions(c, i, 0), whole->positions(c, i, 0));
    // ...and resuming from the checkpoints gives the rest, bitwise.
    SampleOptions more = o;
    more.num_samples = 99 - keep * thinning;
    auto rest = resume(cut[1].checkpoints, nuts::Kernel{}, Gaussian::correlated_2d(), more);
    ASSERT_TRUE(rest.ok()) << rest.status();
    ASSERT_EQ(keep + rest->num_draws(), whole->num_draws());
    for (std::size_t c = 0; c < 4; ++c)
      for (std::size_t i = 0; i < rest->num_draws(); ++i)
        for (std::size_t j = 0; j < 2; ++j)
          ASSERT_EQ(rest->positions(c, i, j), whole->positions(c, keep + i, j))
              << "thinning " << thinning << " chain " << c << " draw " << i;
  }
}

TEST(Sample, AStopDuringWarmupCancels) {
  SampleOptions o = small(100, 50);
  auto d = sample(make_key(12), nuts::Kernel{}, Gaussian::correlated_2d(), Vec{0.0, 3.0}, o,
                  [](const StepEvent<GradientState, nuts::Info>& e) {
                    return e.is_warmup && e.step == 10 ? Control::kStop : Control::kContinue;
                  });
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), absl::StatusCode::kCancelled);
}

TEST(Sample, InvalidOptionsAreErrors) {
  SampleOptions o = small(10, 10);
  o.thinning = 0;
  EXPECT_FALSE(sample(make_key(13), Gaussian::correlated_2d(), Vec{0.0, 3.0}, o).ok());
  o = small(10, 10);
  o.num_chains = 0;
  EXPECT_FALSE(sample(make_key(13), Gaussian::correlated_2d(), Vec{0.0, 3.0}, o).ok());
  EXPECT_FALSE(
      sample(make_key(13), nuts::Kernel{}, Gaussian::correlated_2d(), std::vector<Vec>{}, o).ok());
}

}  // namespace
}  // namespace nutshell

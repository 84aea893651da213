// distributed::sample_on with the one-process executor: everything a
// distributed run does except the transport (chain subsets, pieces and
// their bytes, merging, per-chain checkpoint files and restart), checked
// bitwise against `sample`. The MPI runs are in mpi_sample_test (mpi_test.sh).
#include "nutshell/distributed/sample.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "nutshell/distributed/converge.hpp"
#include "nutshell/distributed/executor.hpp"
#include "nutshell/distributed/merge.hpp"
#include "nutshell/mcmc/nuts.hpp"
#include "nutshell/run/converge.hpp"
#include "nutshell/run/sample.hpp"
#include "tests/distributed/same_draws.hpp"
#include "tests/support/gaussian.hpp"

namespace nutshell {
namespace {

using testing::Gaussian;

SampleOptions small() {
  SampleOptions o;
  o.num_chains = 5;
  o.num_warmup = 150;
  o.num_samples = 200;
  o.num_threads = 2;
  o.progress_bar = false;
  return o;
}

std::string fresh_dir(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  std::string dir = std::string(tmp ? tmp : "/tmp") + "/" + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

TEST(OwnedChains, RoundRobinCoversEveryChainOnce) {
  std::vector<int> seen(7, 0);
  for (int r = 0; r < 3; ++r)
    for (std::size_t c : distributed::owned_chains(r, 3, 7)) ++seen[c];
  for (int s : seen) EXPECT_EQ(s, 1);
  EXPECT_EQ(distributed::owned_chains(2, 3, 2).size(), 0u);
}

TEST(ChainSubset, RunsOnlyThoseChainsKeyedAsInTheWholeRun) {
  auto g = Gaussian::correlated_2d();
  auto whole = sample(make_key(3), g, Vec{0.0, 0.0}, small());
  ASSERT_TRUE(whole.ok()) << whole.status();
  SampleOptions o = small();
  o.chains = std::vector<std::size_t>{3, 1};
  auto part = sample(make_key(3), g, Vec{0.0, 0.0}, o);
  ASSERT_TRUE(part.ok()) << part.status();
  ASSERT_EQ(part->chains, (std::vector<std::size_t>{3, 1}));
  for (std::size_t r = 0; r < 2; ++r)
    for (std::size_t i = 0; i < part->num_draws(); ++i)
      for (std::size_t j = 0; j < 2; ++j)
        ASSERT_EQ(part->positions(r, i, j), whole->positions(part->chains[r], i, j));
  o.chains = std::vector<std::size_t>{9};
  auto bad = sample(make_key(3), g, Vec{0.0, 0.0}, o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("chain 9: not among the 5 chains"), std::string::npos);
}

TEST(LocalExecutor, BitwiseEqualToSample) {
  auto g = Gaussian::correlated_2d();
  auto whole = sample(make_key(4), nuts::Kernel{}, g, Vec{0.0, 0.0}, small());
  ASSERT_TRUE(whole.ok()) << whole.status();
  auto d = distributed::sample_on(distributed::LocalExecutor{}, make_key(4), nuts::Kernel{}, g,
                                  Vec{0.0, 0.0}, small());
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(testing::draws_difference(*d, *whole), "");
  // A different key is a different run (the comparison can fail).
  auto other = sample(make_key(5), nuts::Kernel{}, g, Vec{0.0, 0.0}, small());
  EXPECT_NE(testing::draws_difference(*d, *other), "");
}

TEST(LocalExecutor, FailedChainIsNamedAndTheOthersArrive) {
  auto g = Gaussian::correlated_2d();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<Vec> starts = {Vec{0.1, 0.2}, Vec{nan, 0.0}, Vec{-0.3, 1.0}, Vec{0.5, 2.0}};
  auto whole = sample(make_key(6), nuts::Kernel{}, g, starts, small());
  auto d = distributed::sample_on(distributed::LocalExecutor{}, make_key(6), nuts::Kernel{}, g,
                                  starts, small());
  ASSERT_TRUE(whole.ok() && d.ok());
  EXPECT_FALSE(d->status.ok());
  EXPECT_NE(d->status.message().find("chain 1 on rank 0"), std::string::npos) << d->status;
  EXPECT_EQ(d->chains, (std::vector<std::size_t>{0, 2, 3}));
  EXPECT_EQ(testing::draws_difference(*d, *whole), "");
}

TEST(LocalExecutor, CheckpointedSegmentsAndRestartAreBitwiseAnUnbrokenRun) {
  auto g = Gaussian::correlated_2d();
  auto whole = sample(make_key(7), nuts::Kernel{}, g, Vec{0.0, 0.0}, small());
  ASSERT_TRUE(whole.ok());
  const std::string dir = fresh_dir("segments");
  distributed::Options dopts{.checkpoint_interval = 60, .checkpoint_dir = dir};
  // First run: chain 2 "dies" at sampling step 130, after its checkpoint at 120.
  auto dying = [](const StepEvent<GradientState, nuts::Info>& e) {
    if (e.chain == 2 && !e.is_warmup && e.step == 130) throw std::runtime_error("killed");
  };
  auto broken = distributed::sample_on(distributed::LocalExecutor{}, make_key(7), nuts::Kernel{}, g,
                                       Vec{0.0, 0.0}, small(), dopts, dying);
  ASSERT_TRUE(broken.ok());
  EXPECT_FALSE(broken->chain_status[2].ok());
  EXPECT_EQ(testing::draws_difference(*broken, *whole), "chains");
  // Restart: chain 2 continues from step 120 (no warmup again), the others
  // are read back whole; everything is the unbroken run.
  std::size_t warmup_steps = 0, first_step = 1000;
  auto watch = [&](const StepEvent<GradientState, nuts::Info>& e) {
    if (e.is_warmup) ++warmup_steps;
    else first_step = std::min<std::size_t>(first_step, e.step);
  };
  SampleOptions one = small();
  one.num_threads = 1;  // the watch counts without a lock
  auto resumed = distributed::sample_on(distributed::LocalExecutor{}, make_key(7), nuts::Kernel{}, g,
                                        Vec{0.0, 0.0}, one, dopts, watch);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(warmup_steps, 0u);
  EXPECT_EQ(first_step, 120u);
  EXPECT_EQ(testing::draws_difference(*resumed, *whole), "");
  // Files of another run are refused, by chain.
  auto other = distributed::sample_on(distributed::LocalExecutor{}, make_key(8), nuts::Kernel{}, g,
                                      Vec{0.0, 0.0}, small(), dopts);
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.status().message().find("another run"), std::string::npos) << other.status();
}

TEST(LocalExecutor, RefusesBadOptions) {
  auto g = Gaussian::correlated_2d();
  distributed::Options dopts{.checkpoint_interval = 50, .checkpoint_dir = ""};
  auto d = distributed::sample_on(distributed::LocalExecutor{}, make_key(1), nuts::Kernel{}, g,
                                  Vec{0.0, 0.0}, small(), dopts);
  EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
  SampleOptions o = small();
  o.thinning = 7;
  dopts.checkpoint_dir = "/tmp";
  d = distributed::sample_on(distributed::LocalExecutor{}, make_key(1), nuts::Kernel{}, g,
                             Vec{0.0, 0.0}, o, dopts);
  EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
}

// Sampling until converged over the one-process executor: bitwise the
// single-process run, summary table included (whose sorted columns both
// take from their last check).
TEST(LocalExecutor, UntilConvergedIsBitwiseTheSingleProcessRun) {
  auto g = Gaussian::correlated_2d();
  SampleOptions o = small();
  const ConvergenceOptions conv{.min_ess_bulk = 300, .min_ess_tail = 300, .block_size = 50};
  auto one = sample_until_converged(make_key(8), nuts::Kernel{}, g, Vec{0.0, 0.0}, o, conv);
  auto d = distributed::sample_until_converged_on(distributed::LocalExecutor{}, make_key(8),
                                                  nuts::Kernel{}, g, Vec{0.0, 0.0}, o, conv);
  ASSERT_TRUE(one.ok() && d.ok());
  EXPECT_EQ(d->verdict.num_draws, one->verdict.num_draws);
  EXPECT_EQ(testing::draws_difference(d->draws, one->draws), "");
  ASSERT_EQ(d->ranked.size(), 2u);  // the last check was complete
  ASSERT_TRUE(d->draws.summary.ok());
  EXPECT_EQ(d->ranked[1].ess_tail, d->draws.summary->rows[1].ess_tail);
}

// merge's summary takes given sorted columns only for draws of exactly the
// checked shape.
TEST(Merge, UsesGivenSortedColumnsOnlyForTheirShape) {
  auto g = Gaussian::correlated_2d();
  auto whole = sample(make_key(9), nuts::Kernel{}, g, Vec{0.0, 0.0}, small());
  ASSERT_TRUE(whole.ok());
  const std::vector<std::size_t> all{0, 1, 2, 3, 4};
  std::vector<diagnostics::RankedColumns> ranked(2);
  for (std::size_t k = 0; k < 2; ++k) ranked[k] = {1.0 + k, 2.0, 3.0, 4.0, 5.0, 6.0 + k};
  const std::size_t n = whole->num_draws();
  auto pieces = [&] { return distributed::pieces_from_draws(decltype(whole)(*whole), all, 0); };
  auto given = distributed::merge(pieces(), all, small(), ranked, 5, n);
  ASSERT_TRUE(given.ok() && given->summary.ok());
  EXPECT_EQ(given->summary->rows[1].median, 2.0);
  EXPECT_EQ(given->summary->rows[1].ess_tail, 7.0);
  EXPECT_EQ(given->summary->rows[1].mean, whole->summary->rows[1].mean);
  for (auto [chains, draws] : {std::pair<std::size_t, std::size_t>{4, n}, {5, n - 1}}) {
    auto sorted_again = distributed::merge(pieces(), all, small(), ranked, chains, draws);
    ASSERT_TRUE(sorted_again.ok());
    EXPECT_EQ(testing::draws_difference(*sorted_again, *whole), "") << chains << " x " << draws;
  }
}

}  // namespace
}  // namespace nutshell

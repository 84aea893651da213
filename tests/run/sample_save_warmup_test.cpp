// SampleOptions::save_warmup (CmdStan's save_warmup=1): the warmup draws and
// per-draw statistics are kept apart from the sampling draws, change nothing
// else, and reach the Stan CSV files and RunData through io::from_draws.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "nutshell/io/from_draws.hpp"
#include "nutshell/io/stan_csv.hpp"
#include "nutshell/mcmc/nuts.hpp"
#include "nutshell/mcmc/rmh.hpp"
#include "nutshell/run/sample.hpp"
#include "tests/support/gaussian.hpp"

namespace nutshell {
namespace {

using testing::Gaussian;

SampleOptions opts(bool save) {
  SampleOptions o;
  o.num_chains = 2;
  o.num_warmup = 100;
  o.num_samples = 200;
  o.thinning = 2;
  o.progress_bar = false;
  o.save_warmup = save;
  return o;
}

TEST(SampleSaveWarmup, KeepsEveryThinnedWarmupDrawApartAndChangesNothingElse) {
  auto with = sample(make_key(71), Gaussian::correlated_2d(), Vec{0.0, 0.0}, opts(true));
  auto without = sample(make_key(71), Gaussian::correlated_2d(), Vec{0.0, 0.0}, opts(false));
  ASSERT_TRUE(with.ok() && without.ok());
  EXPECT_EQ(without->warmup.num_draws(), 0u);
  ASSERT_EQ(with->warmup.num_draws(), 50u);
  ASSERT_EQ(with->warmup.positions.shape(0), 2u);
  ASSERT_EQ(with->warmup.infos[1].size(), 50u);
  EXPECT_EQ(with->warmup.sample_stats.names, with->sample_stats.names);
  // The sampling draws and the summary are those of the run without it.
  EXPECT_EQ(with->positions, without->positions);
  EXPECT_EQ(with->summary->rows[0].mean, without->summary->rows[0].mean);
  EXPECT_EQ(with->num_draws(), 100u);
  // Warmup step sizes are those the adaptation used: they change.
  const long h = with->warmup.sample_stats.index("step_size");
  ASSERT_GE(h, 0);
  EXPECT_NE(with->warmup.sample_stats.values(0, 0, h), with->warmup.sample_stats.values(0, 49, h));
  const long lp = with->warmup.sample_stats.index("lp");
  EXPECT_EQ(with->warmup.sample_stats.values(0, 3, lp), with->warmup.logdensity(0, 3));
}

TEST(SampleSaveWarmup, GradientFreeKernelsKeepThemToo) {
  auto d =
      sample(make_key(72), rmh::Kernel{}, Gaussian::correlated_2d(), Vec{0.0, 0.0}, opts(true));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->warmup.num_draws(), 50u);
  EXPECT_GE(d->warmup.sample_stats.index("acceptance_rate"), 0);
  // The step-size searches' trial transitions are neither warmup draws nor
  // warmup transitions: one evaluation per warmup transition, the rest
  // counted as search.
  EXPECT_EQ(d->accounting[0].gradient_evaluations_warmup, 100u);
  EXPECT_GT(d->accounting[0].gradient_evaluations_step_size_search, 0u);
}

TEST(SampleSaveWarmup, StanCsvHoldsTheWarmupRowsAsCmdStanWritesThem) {
  auto d = sample(make_key(73), Gaussian::correlated_2d(), Vec{0.0, 0.0}, opts(true));
  ASSERT_TRUE(d.ok());
  io::RunInfo info;
  info.num_warmup = 100;
  info.num_samples = 200;
  info.thin = 2;
  auto run = io::from_draws(*d, info);
  ASSERT_TRUE(run.ok()) << run.status();
  ASSERT_EQ(run->num_warmup_draws(), 50u);
  ASSERT_NE(run->warmup_stat("step_size"), nullptr);
  const auto dir = std::filesystem::path(::testing::TempDir()) / "save_warmup";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "chain_1.csv").string();
  ASSERT_TRUE(io::write_stan_csv_file(*run, 0, path).ok());
  auto back = io::read_stan_csv(path);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->config["save_warmup"], "1");
  ASSERT_EQ(back->run.num_warmup_draws(), 50u);
  ASSERT_EQ(back->run.num_draws(), 100u);
  EXPECT_NEAR(back->run.warmup_draws(0, 7, 1), d->warmup.positions(0, 7, 1), 1e-5);
  EXPECT_NEAR(back->run.draws(0, 7, 1), d->positions(0, 7, 1), 1e-5);
}

}  // namespace
}  // namespace nutshell

// Streaming Stan CSV as `sample`'s callback: the complete files equal the
// run, a run killed midway leaves every finished draw readable, and write
// errors are reported without stopping the run.
#include "nutshell/io/csv_stream.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "nutshell/io/from_draws.hpp"
#include "nutshell/io/stan_csv.hpp"
#include "nutshell/mcmc/mala.hpp"
#include "nutshell/run/sample.hpp"
#include "test_run.hpp"

namespace nutshell::io {
namespace {

double gaussian(const Vec& x, Vec& g) {
  double lp = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double s = 1.0 + i;
    g(i) = -x(i) / (s * s);
    lp += -0.5 * x(i) * x(i) / (s * s);
  }
  return lp;
}

SampleOptions small_options() {
  SampleOptions o;
  o.num_chains = 2;
  o.num_warmup = 100;
  o.num_samples = 120;
  o.thinning = 2;
  o.progress_bar = false;
  o.names = {"a", "b", "c"};
  return o;
}

CsvStreamOptions stream_options(const std::string& prefix, const SampleOptions& o) {
  CsvStreamOptions s;
  s.prefix = prefix;
  s.num_chains = o.num_chains;
  s.model_name = "gaussian";
  s.parameters = {{"a", {}}, {"v", {2}}};
  s.num_warmup = o.num_warmup;
  s.num_samples = o.num_samples;
  s.thin = o.thinning;
  s.save_warmup = true;
  return s;
}

TEST(CsvStream, CompleteFilesEqualTheRunAndAKilledRunIsReadable) {
  const auto dir = testing::temp_dir("stream");
  const SampleOptions o = small_options();
  CsvStream stream(stream_options(dir + "/g", o));
  const std::string snapshot = dir + "/killed_1.csv";
  // Copies chain 0's partial file after its 30th kept draw: what a kill at
  // that moment would leave on disk.
  auto callback = [&](const StepEvent<nuts::State, nuts::Info>& e) {
    stream(e);
    if (e.chain == 0 && !e.is_warmup && e.step == 59) {
      EXPECT_TRUE(std::filesystem::exists(stream.partial_paths()[0]));
      std::filesystem::copy_file(stream.partial_paths()[0], snapshot);
    }
    return Control::kContinue;
  };
  auto draws = sample(make_key(3), gaussian, Vec{0.5, -0.5, 1.0}, o, callback);
  ASSERT_TRUE(draws.ok()) << draws.status();
  ASSERT_TRUE(stream.status().ok()) << stream.status();

  RunInfo info;
  info.model_name = "gaussian";
  info.parameters = {{"a", {}}, {"v", {2}}};
  info.num_warmup = o.num_warmup;
  info.num_samples = o.num_samples;
  info.thin = o.thinning;
  auto run = from_draws(*draws, info);
  ASSERT_TRUE(run.ok()) << run.status();
  auto paths = stream.finish(*run);
  ASSERT_TRUE(paths.ok()) << paths.status();
  ASSERT_EQ(paths->size(), 2u);
  for (const auto& p : stream.partial_paths()) EXPECT_FALSE(std::filesystem::exists(p));

  auto back = read_stan_csv(*paths);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(back->complete);
  const RunData& r = back->run;
  ASSERT_EQ(r.num_draws(), 60u);
  EXPECT_EQ(r.draws, run->draws);
  EXPECT_EQ(r.stat("lp")->values, run->stat("lp")->values);
  EXPECT_EQ(r.stat("tree_depth")->values, run->stat("tree_depth")->values);
  EXPECT_EQ(r.stat("energy")->values, run->stat("energy")->values);
  EXPECT_EQ(r.adaptation[0].step_size, draws->params[0].step_size);
  // Warmup came back from the partial files: 50 kept warmup draws.
  EXPECT_EQ(r.num_warmup_draws(), 50u);
  EXPECT_GT(r.warmup_seconds[0] + r.sampling_seconds[0], 0.0);

  // The killed run's file: incomplete, readable, its 30 draws exact.
  EXPECT_FALSE(read_stan_csv(snapshot).ok());
  auto killed = read_stan_csv(snapshot, {.allow_incomplete = true});
  ASSERT_TRUE(killed.ok()) << killed.status();
  EXPECT_FALSE(killed->complete);
  ASSERT_EQ(killed->run.num_draws(), 30u);
  EXPECT_EQ(killed->run.num_warmup_draws(), 50u);
  for (std::size_t i = 0; i < 30; ++i)
    for (std::size_t j = 0; j < 3; ++j) ASSERT_EQ(killed->run.draws(0, i, j), run->draws(0, i, j));
}

TEST(CsvStream, ARunOtherThanTheStreamedOneIsWrittenFromTheRun) {
  // finish() reuses the partial files' rows only when they are the run's;
  // given other draws (here: lp changed), it writes the run it is given.
  const auto dir = testing::temp_dir("stream_other");
  SampleOptions o = small_options();
  CsvStream stream(stream_options(dir + "/g", o));
  auto draws = sample(make_key(6), gaussian, Vec{0.5, -0.5, 1.0}, o, stream);
  ASSERT_TRUE(draws.ok());
  RunInfo info;
  info.parameters = {{"a", {}}, {"v", {2}}};
  auto run = from_draws(*draws, info);
  ASSERT_TRUE(run.ok());
  auto* lp = const_cast<SampleStat*>(run->stat("lp"));
  lp->values(1, 5) += 1.0;
  auto paths = stream.finish(*run);
  ASSERT_TRUE(paths.ok()) << paths.status();
  auto back = read_stan_csv(*paths);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->run.stat("lp")->values, lp->values);
  EXPECT_EQ(back->run.draws, run->draws);
  EXPECT_EQ(back->run.num_warmup_draws(), 50u);  // recovered from the partial files
}

TEST(CsvStream, TimesWarmupEvenWhenNotSaved) {
  const auto dir = testing::temp_dir("stream_timing");
  SampleOptions o = small_options();
  CsvStreamOptions so = stream_options(dir + "/g", o);
  so.save_warmup = false;
  CsvStream stream(so);
  auto draws = sample(make_key(8), gaussian, Vec{0.5, -0.5, 1.0}, o, stream);
  ASSERT_TRUE(draws.ok());
  auto run = from_draws(*draws, RunInfo{.parameters = {{"a", {}}, {"v", {2}}}});
  ASSERT_TRUE(run.ok());
  auto paths = stream.finish(*run);
  ASSERT_TRUE(paths.ok()) << paths.status();
  auto back = read_stan_csv(*paths);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->run.num_warmup_draws(), 0u);
  EXPECT_GT(back->run.warmup_seconds[0], 0.0);
  EXPECT_GT(back->run.sampling_seconds[0], 0.0);
  EXPECT_EQ(back->config.at("save_warmup"), "0");
}

TEST(CsvStream, UnwritablePrefixIsReportedAndTheRunGoesOn) {
  const SampleOptions o = small_options();
  CsvStream stream(stream_options("/nonexistent-dir/g", o));
  auto draws = sample(make_key(4), gaussian, Vec{0.5, -0.5, 1.0}, o, stream);
  ASSERT_TRUE(draws.ok()) << draws.status();
  EXPECT_EQ(draws->num_draws(), 60u);
  ASSERT_FALSE(stream.status().ok());
  EXPECT_NE(stream.status().message().find("cannot write /nonexistent-dir/g_"), std::string::npos)
      << stream.status();
  auto run = from_draws(*draws, RunInfo{});
  ASSERT_TRUE(run.ok());
  EXPECT_FALSE(stream.finish(*run).ok());
}

TEST(FromDraws, MapsStatsAndAdaptation) {
  SampleOptions o = small_options();
  o.thinning = 1;
  o.adaptation.is_mass_matrix_diagonal = false;
  auto draws = sample(make_key(5), gaussian, Vec{0.5, -0.5, 1.0}, o);
  ASSERT_TRUE(draws.ok());
  RunInfo info;
  info.names = o.names;
  // Constrained: exp of the last coordinate, as a positive parameter would be.
  info.constrain = [](std::span<const double> u, std::span<double> out) {
    out[0] = u[0];
    out[1] = u[1];
    out[2] = std::exp(u[2]);
  };
  auto run = from_draws(*draws, info);
  ASSERT_TRUE(run.ok()) << run.status();
  std::vector<std::string> names;
  for (const auto& s : run->stats) names.push_back(s.name);
  EXPECT_EQ(names, (std::vector<std::string>{"lp", "acceptance_rate", "step_size", "tree_depth", "n_steps",
                                             "diverging", "energy"}));
  EXPECT_EQ(run->engine, "nuts");
  EXPECT_EQ(run->draws(1, 7, 2), std::exp(draws->positions(1, 7, 2)));
  EXPECT_EQ(run->stat("lp")->values(1, 7), draws->logdensity(1, 7));
  EXPECT_EQ(run->stat("n_steps")->values(0, 3), draws->infos[0][3].num_integration_steps);
  ASSERT_TRUE(run->adaptation[0].is_dense());
  EXPECT_EQ(run->adaptation[0].inverse_metric_dense.size(), 9u);
  EXPECT_EQ(run->chain_ids, (std::vector<std::uint64_t>{1, 2}));
  EXPECT_EQ(num_divergent(*run), draws->num_divergent);
}

TEST(FromDraws, OtherKernelsWriteTheColumnsThatApply) {
  // MALA has an acceptance rate, a step size and divergences, but no tree
  // depth, leapfrog count or energy.
  SampleOptions o = small_options();
  o.thinning = 1;
  auto draws = sample(make_key(7), mala::Kernel{}, gaussian, Vec{0.5, -0.5, 1.0}, o);
  ASSERT_TRUE(draws.ok()) << draws.status();
  auto run = from_draws(*draws, RunInfo{.model_name = "gaussian", .engine = "mala"});
  ASSERT_TRUE(run.ok()) << run.status();
  const auto dir = testing::temp_dir("mala");
  auto paths = write_stan_csv_files(*run, dir + "/m");
  ASSERT_TRUE(paths.ok()) << paths.status();
  auto back = read_stan_csv(*paths);
  ASSERT_TRUE(back.ok()) << back.status();
  std::vector<std::string> names;
  for (const auto& s : back->run.stats) names.push_back(s.name);
  EXPECT_EQ(names, (std::vector<std::string>{"lp", "acceptance_rate", "step_size", "diverging"}));
  EXPECT_EQ(back->config.at("engine"), "mala");
  EXPECT_EQ(back->run.draws, run->draws);
}

}  // namespace
}  // namespace nutshell::io

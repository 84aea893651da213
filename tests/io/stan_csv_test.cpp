// Stan CSV: exact round trips, CmdStan's layout, and clear errors for bad
// files, unwritable paths and full disks.
#include "nutshell/io/stan_csv.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "test_run.hpp"

namespace nutshell::io {
namespace {

using testing::make_run;
using testing::temp_dir;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void expect_same(const RunData& a, const RunData& b) {
  ASSERT_EQ(a.parameters.size(), b.parameters.size());
  for (std::size_t k = 0; k < a.parameters.size(); ++k) {
    EXPECT_EQ(a.parameters[k].name, b.parameters[k].name);
    EXPECT_EQ(a.parameters[k].dims, b.parameters[k].dims);
  }
  ASSERT_EQ(a.draws.shape(), b.draws.shape());
  for (std::size_t i = 0; i < a.draws.size(); ++i) ASSERT_EQ(a.draws.data()[i], b.draws.data()[i]) << i;
  ASSERT_EQ(a.warmup_draws.shape(), b.warmup_draws.shape());
  for (std::size_t i = 0; i < a.warmup_draws.size(); ++i)
    ASSERT_EQ(a.warmup_draws.data()[i], b.warmup_draws.data()[i]);
  ASSERT_EQ(a.stats.size(), b.stats.size());
  for (std::size_t k = 0; k < a.stats.size(); ++k) {
    EXPECT_EQ(a.stats[k].name, b.stats[k].name);
    EXPECT_EQ(a.stats[k].values, b.stats[k].values) << a.stats[k].name;
  }
  ASSERT_EQ(a.adaptation.size(), b.adaptation.size());
  for (std::size_t c = 0; c < a.adaptation.size(); ++c) {
    EXPECT_EQ(a.adaptation[c].step_size, b.adaptation[c].step_size);
    EXPECT_EQ(a.adaptation[c].inverse_metric_diagonal, b.adaptation[c].inverse_metric_diagonal);
    EXPECT_EQ(a.adaptation[c].inverse_metric_dense, b.adaptation[c].inverse_metric_dense);
  }
  EXPECT_EQ(a.warmup_seconds, b.warmup_seconds);
  EXPECT_EQ(a.sampling_seconds, b.sampling_seconds);
  EXPECT_EQ(a.chain_ids, b.chain_ids);
  EXPECT_EQ(a.num_samples, b.num_samples);
  EXPECT_EQ(a.num_warmup, b.num_warmup);
  EXPECT_EQ(a.seed, b.seed);
  EXPECT_EQ(a.model_name, b.model_name);
}

TEST(StanNames, VectorsAndMatricesColumnMajorOneBased) {
  std::vector<std::size_t> idx;
  auto n = stan_names(Parameter{"L", {2, 3}}, &idx);
  EXPECT_EQ(n, (std::vector<std::string>{"L.1.1", "L.2.1", "L.1.2", "L.2.2", "L.1.3", "L.2.3"}));
  EXPECT_EQ(idx, (std::vector<std::size_t>{0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(stan_names(Parameter{"theta", {2}}), (std::vector<std::string>{"theta.1", "theta.2"}));
  EXPECT_EQ(stan_names(Parameter{"mu", {}}), (std::vector<std::string>{"mu"}));
  EXPECT_EQ(flat_labels({{"L", {2, 2}}}), (std::vector<std::string>{"L[0, 0]", "L[0, 1]", "L[1, 0]", "L[1, 1]"}));
}

TEST(StanCsv, WritesCmdStanLayout) {
  const auto dir = temp_dir("layout");
  RunData run = make_run(1, 5);
  const std::string path = dir + "/a_1.csv";
  ASSERT_TRUE(write_stan_csv_file(run, 0, path).ok());
  const std::string text = slurp(path);
  for (const char* line : {"# method = sample (Default)\n", "#     num_samples = 5\n", "#     save_warmup = 0\n",
                           "#     thin = 1\n", "#     algorithm = hmc\n", "#         engine = nuts\n",
                           "#         metric = diag_e\n", "# id = 1\n", "#   seed = 1234\n", "# model = fixture\n",
                           "\nlp__,accept_stat__,stepsize__,treedepth__,n_leapfrog__,divergent__,energy__,mu,"
                           "theta.1,theta.2,theta.3,L.1.1,L.2.1,L.1.2,L.2.2,L.1.3,L.2.3\n# Adaptation terminated\n"
                           "# Step size = 0.25\n# Diagonal elements of inverse mass matrix:\n# 1, 1.3333333333333333, ",
                           "#  Elapsed Time: 0.5 seconds (Warm-up)\n#                1.25 seconds (Sampling)\n"
                           "#                1.75 seconds (Total)\n# \n"})
    EXPECT_NE(text.find(line), std::string::npos) << line << "\nnot in\n" << text;
  EXPECT_TRUE(text.ends_with("(Total)\n# \n"));
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST(StanCsv, RoundTripsExactly) {
  const auto dir = temp_dir("roundtrip");
  for (bool dense : {false, true})
    for (std::size_t warmup : {0, 7}) {
      RunData run = make_run(3, 25, warmup, dense);
      auto paths = write_stan_csv_files(run, dir + "/run");
      ASSERT_TRUE(paths.ok()) << paths.status();
      ASSERT_EQ(paths->size(), 3u);
      auto back = read_stan_csv(*paths);
      ASSERT_TRUE(back.ok()) << back.status();
      EXPECT_TRUE(back->complete);
      expect_same(run, back->run);
      EXPECT_EQ(back->config.at("metric"), dense ? "dense_e" : "diag_e");
    }
}

TEST(StanCsv, ReadsCmdStanStyleFile) {
  // The layout of a CmdStan 2.33 output file (header abridged), with a
  // generated quantity and a blank line before the timing block.
  const std::string text =
      "# stan_version_major = 2\n# model = bernoulli_model\n# method = sample (Default)\n#   sample\n"
      "#     num_samples = 3\n#     num_warmup = 2\n#     save_warmup = 1\n#     thin = 1 (Default)\n"
      "# id = 4\n# random\n#   seed = 99\n"
      "lp__,accept_stat__,stepsize__,treedepth__,n_leapfrog__,divergent__,energy__,theta,y_rep.1,y_rep.2\n"
      "-7.1,0.9,1,1,1,0,7.2,0.3,0,1\n-7.0,0.8,1.2,1,3,0,7.3,0.31,1,1\n"
      "# Adaptation terminated\n# Step size = 0.93\n# Diagonal elements of inverse mass matrix:\n# 0.52\n"
      "-6.9,0.95,0.93,1,3,0,7.0,0.2,1,0\n-7.5,0.7,0.93,2,3,1,7.9,0.1,0,0\n-6.8,1,0.93,1,1,0,6.9,0.25,0,1\n"
      "\n#  Elapsed Time: 0.004 seconds (Warm-up)\n#                0.012 seconds (Sampling)\n"
      "#                0.016 seconds (Total)\n\n";
  auto r = parse_stan_csv(text, "cmdstan.csv");
  ASSERT_TRUE(r.ok()) << r.status();
  const RunData& run = r->run;
  ASSERT_EQ(run.parameters.size(), 2u);
  EXPECT_EQ(run.parameters[1].name, "y_rep");
  EXPECT_EQ(run.parameters[1].dims, std::vector<std::size_t>{2});
  EXPECT_EQ(run.num_draws(), 3u);
  EXPECT_EQ(run.num_warmup_draws(), 2u);
  EXPECT_EQ(run.draws(0, 1, 0), 0.1);
  EXPECT_EQ(run.warmup_draws(0, 1, 0), 0.31);
  EXPECT_EQ(run.stat("diverging")->values(0, 1), 1.0);
  EXPECT_EQ(run.stat("n_steps")->values(0, 0), 3.0);
  EXPECT_EQ(run.adaptation[0].step_size, 0.93);
  EXPECT_EQ(run.adaptation[0].inverse_metric_diagonal, std::vector<double>{0.52});
  EXPECT_EQ(run.chain_ids[0], 4u);
  EXPECT_EQ(run.seed, 99u);
  EXPECT_EQ(run.warmup_seconds[0], 0.004);
  EXPECT_EQ(run.sampling_seconds[0], 0.012);
  EXPECT_EQ(run.model_name, "bernoulli_model");
  EXPECT_EQ(num_divergent(run), 1u);
}

TEST(StanCsv, MalformedFilesGiveClearErrors) {
  const auto dir = temp_dir("malformed");
  RunData run = make_run(1, 6);
  const std::string path = dir + "/ok_1.csv";
  ASSERT_TRUE(write_stan_csv_file(run, 0, path).ok());
  const std::string text = slurp(path);
  const auto timing = text.find("# \n#  Elapsed");
  ASSERT_NE(timing, std::string::npos);

  // Truncated between rows: no timing block -> incomplete.
  const std::string no_timing = text.substr(0, timing);
  auto r = parse_stan_csv(no_timing, "t.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find("incomplete"), std::string::npos) << r.status();
  auto partial = parse_stan_csv(no_timing, "t.csv", {.allow_incomplete = true});
  ASSERT_TRUE(partial.ok()) << partial.status();
  EXPECT_FALSE(partial->complete);
  EXPECT_EQ(partial->run.num_draws(), 6u);

  // Truncated mid-row.
  const std::string cut = no_timing.substr(0, no_timing.size() - 9);
  r = parse_stan_csv(cut, "cut.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("truncated"), std::string::npos) << r.status();
  partial = parse_stan_csv(cut, "cut.csv", {.allow_incomplete = true});
  ASSERT_TRUE(partial.ok()) << partial.status();
  EXPECT_EQ(partial->run.num_draws(), 5u);
  EXPECT_EQ(partial->notes.size(), 2u);

  // A row with a missing field, and one with an extra field.
  std::string bad = text;
  const auto values_line = bad.find('\n', bad.find("# Diagonal")) + 1;
  const auto first_draw = bad.find('\n', values_line) + 1;
  const auto eol = bad.find('\n', first_draw);
  std::string fewer = bad;
  const auto last_comma = fewer.rfind(',', eol);
  fewer.erase(last_comma, eol - last_comma);  // drops the first draw's last field
  r = parse_stan_csv(fewer, "few.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("expected 17"), std::string::npos) << r.status();
  EXPECT_NE(r.status().message().find("few.csv:"), std::string::npos) << r.status();
  std::string more = bad;
  more.insert(eol, ",1");
  r = parse_stan_csv(more, "more.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("18 fields, expected 17"), std::string::npos) << r.status();

  // A non-numeric field.
  std::string word = bad;
  word.replace(word.rfind(',', eol) + 1, 0, "abc");
  r = parse_stan_csv(word, "word.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("is not a number"), std::string::npos) << r.status();
  EXPECT_NE(r.status().message().find("column 'L.2.3'"), std::string::npos) << r.status();

  // Not a CSV at all, and a missing file.
  r = parse_stan_csv("# only comments\n", "c.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("no column header"), std::string::npos);
  r = read_stan_csv(dir + "/missing.csv");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);

  // Files of different lengths: an error, unless incomplete files are allowed.
  RunData shorter = make_run(1, 4);
  ASSERT_TRUE(write_stan_csv_file(shorter, 0, dir + "/short_1.csv").ok());
  r = read_stan_csv(std::vector<std::string>{path, dir + "/short_1.csv"});
  EXPECT_FALSE(r.ok());
  r = read_stan_csv(std::vector<std::string>{path, dir + "/short_1.csv"}, {.allow_incomplete = true});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->run.num_draws(), 4u);
}

TEST(StanCsv, UnwritablePathIsAnErrorAndLeavesNothing) {
  RunData run = make_run(1, 5);
  auto s = write_stan_csv_file(run, 0, "/nonexistent-dir/x_1.csv");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("cannot write /nonexistent-dir/x_1.csv.tmp"), std::string::npos) << s;
  auto p = write_stan_csv_files(run, "/nonexistent-dir/x");
  EXPECT_FALSE(p.ok());
}

TEST(StanCsv, FullDiskIsAnError) {
  RunData run = make_run(2, 200);
  std::FILE* full = std::fopen("/dev/full", "wb");
  ASSERT_NE(full, nullptr);
  auto s = write_stan_csv(run, 0, full, "/dev/full");
  std::fclose(full);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("No space left on device"), std::string::npos) << s;
}

TEST(StanCsv, DiskFillingMidFileLeavesNoCompleteLookingFile) {
  // A file size limit makes writes past 4 KB fail as a full disk does.
  const auto dir = temp_dir("fill");
  RunData run = make_run(1, 400);
  const std::string path = dir + "/f_1.csv";
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit old{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
  rlimit lim = old;
  lim.rlim_cur = 4096;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &lim), 0);
  auto s = write_stan_csv_file(run, 0, path);
  setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, old_handler);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("writing"), std::string::npos) << s;
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST(StanCsv, InvalidRunIsAnError) {
  RunData run = make_run(1, 5);
  run.parameters.pop_back();
  auto s = write_stan_csv_files(run, temp_dir("invalid") + "/x");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("values per draw"), std::string::npos);
}

}  // namespace
}  // namespace nutshell::io

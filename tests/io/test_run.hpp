// A small RunData with a scalar, a vector and a matrix parameter, every
// NUTS stat, warmup and a dense metric option: the fixture of the io tests.
#pragma once

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>

#include "nutshell/io/run_data.hpp"

namespace nutshell::io::testing {

/// Values that exercise the number formatting: not round in decimal,
/// negative, tiny and huge.
inline double value(std::size_t c, std::size_t i, std::size_t j) {
  return std::sin(1.0 + c * 7.1 + i * 0.37 + j * 1.3) * std::pow(10.0, static_cast<double>(j % 5) - 2.0) / 3.0;
}

inline RunData make_run(std::size_t chains = 2, std::size_t draws = 20, std::size_t warmup = 0,
                        bool dense = false) {
  RunData run;
  run.model_name = "fixture";
  run.parameters = {{"mu", {}}, {"theta", {3}}, {"L", {2, 3}}};
  run.num_samples = draws;
  run.num_warmup = warmup;
  run.seed = 1234;
  const std::size_t dim = run.flat_size();
  run.draws = xt::xtensor<double, 3>::from_shape({chains, draws, dim});
  run.warmup_draws = xt::xtensor<double, 3>::from_shape({chains, warmup, dim});
  for (std::size_t c = 0; c < chains; ++c)
    for (std::size_t j = 0; j < dim; ++j) {
      for (std::size_t i = 0; i < draws; ++i) run.draws(c, i, j) = value(c, i, j);
      for (std::size_t i = 0; i < warmup; ++i) run.warmup_draws(c, i, j) = value(c, i + 1000, j);
    }
  const char* names[] = {"lp", "acceptance_rate", "step_size", "tree_depth", "n_steps", "diverging", "energy"};
  for (const char* n : names) {
    SampleStat s{n, xt::xtensor<double, 2>::from_shape({chains, draws})};
    SampleStat w{n, xt::xtensor<double, 2>::from_shape({chains, warmup})};
    for (std::size_t c = 0; c < chains; ++c) {
      for (std::size_t i = 0; i < draws; ++i) {
        const std::string name = n;
        s.values(c, i) = name == "tree_depth"   ? double(1 + (i % 4))
                         : name == "n_steps"    ? double(3 + 2 * (i % 5))
                         : name == "diverging"  ? double(i % 7 == 3)
                         : name == "step_size"  ? 0.25 + 0.1 * c
                                                : value(c, i, 17 + name.size());
      }
      for (std::size_t i = 0; i < warmup; ++i) w.values(c, i) = std::string(n) == "diverging" ? 0.0 : double(i % 3 + 1);
    }
    run.stats.push_back(std::move(s));
    if (warmup > 0) run.warmup_stats.push_back(std::move(w));
  }
  for (std::size_t c = 0; c < chains; ++c) {
    ChainAdaptation a;
    a.step_size = 0.25 + 0.1 * c;
    for (std::size_t j = 0; j < dim; ++j) a.inverse_metric_diagonal.push_back(1.0 + j / 3.0);
    if (dense) {
      a.inverse_metric_dense.assign(dim * dim, 0.0);
      for (std::size_t j = 0; j < dim; ++j)
        for (std::size_t k = 0; k < dim; ++k)
          a.inverse_metric_dense[j * dim + k] = j == k ? a.inverse_metric_diagonal[j] : 0.01 * (j + k);
    }
    run.adaptation.push_back(a);
    run.chain_ids.push_back(c + 1);
    run.warmup_seconds.push_back(0.5 + c);
    run.sampling_seconds.push_back(1.25 + c);
  }
  return run;
}

/// A fresh directory under the test's temporary directory.
inline std::string temp_dir(const std::string& name) {
  const char* t = std::getenv("TEST_TMPDIR");
  std::filesystem::path p = std::filesystem::path(t ? t : "/tmp") / name;
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p.string();
}

}  // namespace nutshell::io::testing

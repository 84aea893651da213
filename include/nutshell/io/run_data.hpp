// RunData: a finished (or partly finished) MCMC run as plain named arrays,
// independent of any kernel, driver or file format. The Stan CSV, netCDF
// and report writers all read it, and the Stan CSV reader produces it, so
// CmdStan's own files go through the same diagnostics and report.
//
// Parameter values are flat: draw (c, i) of parameter p occupies
// draws(c, i, offset(p) .. offset(p) + size(p)), its elements in row-major
// (C) order of p's dims, as numpy and ArviZ lay them out. Stan CSV orders
// a matrix's columns column-major (L.1.1, L.2.1, L.1.2, ...); the CSV
// writer and reader translate.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "xtensor/xtensor.hpp"

namespace nutshell::io {

/// A named parameter of the model: a scalar (no dims), a vector ({n}), a
/// matrix ({rows, cols}) or any array.
struct Parameter {
  std::string name;
  std::vector<std::size_t> dims;
  /// Number of scalars (1 for a scalar).
  std::size_t size() const;
};

/// A per-draw sampler statistic, [chain, draw], under its ArviZ name:
/// lp, acceptance_rate, step_size, tree_depth, n_steps, diverging,
/// energy, energy_error (or any other name; the CSV writes the Stan
/// columns it knows).
struct SampleStat {
  std::string name;
  xt::xtensor<double, 2> values;
};

/// What adaptation left a chain with. NaN step size and empty metric:
/// unknown (or a kernel without them).
struct ChainAdaptation {
  double step_size = std::numeric_limits<double>::quiet_NaN();
  /// Diagonal of the inverse mass matrix (the dense matrix's diagonal too).
  std::vector<double> inverse_metric_diagonal;
  /// Row-major dim x dim inverse mass matrix when the metric is dense;
  /// empty otherwise.
  std::vector<double> inverse_metric_dense;
  bool is_dense() const { return !inverse_metric_dense.empty(); }
};

/// A run: parameters, draws, statistics, adaptation, timing, provenance.
struct RunData {
  std::string model_name = "model";
  /// Stan's `algorithm` and `engine` (hmc/nuts); other kernels put their
  /// own names (e.g. "mala", "rmh") in `engine` and "hmc" or "fixed_param"
  /// style words in `algorithm`.
  std::string algorithm = "hmc";
  std::string engine = "nuts";
  /// The library that made the draws (ArviZ's inference_library).
  std::string inference_library = "nutshell";
  std::vector<Parameter> parameters;
  /// [chain, draw, flat parameter], constrained scale.
  xt::xtensor<double, 3> draws;
  std::vector<SampleStat> stats;
  /// Warmup draws and stats ([chain, warmup draw, ...]); empty shape(1)
  /// when warmup was not saved.
  xt::xtensor<double, 3> warmup_draws;
  std::vector<SampleStat> warmup_stats;
  /// One per chain (may be empty: unknown).
  std::vector<ChainAdaptation> adaptation;
  /// Chain ids (CmdStan's `id`, 1-based by convention) and the seed.
  std::vector<std::uint64_t> chain_ids;
  std::uint64_t seed = 0;
  /// Seconds per chain; NaN when unknown.
  std::vector<double> warmup_seconds;
  std::vector<double> sampling_seconds;
  std::size_t num_warmup = 0;
  std::size_t num_samples = 0;
  std::size_t thin = 1;

  std::size_t num_chains() const { return draws.shape(0); }
  std::size_t num_draws() const { return draws.shape(1); }
  std::size_t num_warmup_draws() const { return warmup_draws.shape(1); }
  /// Total number of scalars over all parameters.
  std::size_t flat_size() const;
  /// The statistic called `name`, or null.
  const SampleStat* stat(const std::string& name) const;
  /// The warmup statistic called `name`, or null.
  const SampleStat* warmup_stat(const std::string& name) const;
};

/// OK when the arrays agree with each other: draws' last dimension equals
/// the parameters' total size, every stat is [chain, draw], the warmup
/// arrays (if any) match, names are unique and non-empty, and per-chain
/// vectors are empty or one per chain.
absl::Status validate(const RunData& run);

/// Parameters named x[0], x[1], ... style: `dim` scalars called
/// `prefix.1`, ... when `names` is empty, otherwise one scalar per name.
std::vector<Parameter> scalar_parameters(std::size_t dim, const std::vector<std::string>& names = {});

/// Stan's names of parameter p's scalars in Stan's (column-major) order:
/// `mu`, `theta.1`, `L.2.1`. `flat_index[k]` receives the row-major offset
/// (within p) of the k-th name.
std::vector<std::string> stan_names(const Parameter& p, std::vector<std::size_t>* flat_index = nullptr);

/// Every parameter's flat (row-major) scalar labels, `theta[0]`,
/// `L[1, 0]` (0-based, as ArviZ shows them), for tables and plots.
std::vector<std::string> flat_labels(const std::vector<Parameter>& parameters);

/// The number of divergent sampling draws (the `diverging` stat), 0 if absent.
std::size_t num_divergent(const RunData& run);

}  // namespace nutshell::io

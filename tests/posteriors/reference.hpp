// Reference posterior summaries (reference.json) of the benchmark posteriors.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nutshell/core/types.hpp"

namespace nutshell::posteriors {

/// One row of reference.json. Fields the file does not give are NaN (the
/// analytic 'exact' rows have no MCSE, ESS or R-hat).
struct Summary {
  std::string name;
  /// Stan block for 'variables' rows ("parameters", "transformed parameters",
  /// "" for lp__); empty for 'unconstrained' and 'exact' rows.
  std::string block;
  double mean, sd, mcse_mean, mcse_sd, q05, q50, q95, ess_bulk, ess_tail, rhat;
};

/// What a long Stan run (rstan 2.21.7 NUTS, diag_e, 4 x 10000 draws) and, where
/// known, the analytic solution say about a posterior.
///
/// reference.json summarises the *constrained* parameters; for `<lower=0>`
/// ones it adds a separate 'unconstrained' section (log_tau, log_ell, ...).
/// `mean`, `sd`, `mcse_*` are assembled from both, so they are on the sampler's
/// unconstrained scale and in coordinate order, ready to compare with draws.
/// The constrained and transformed quantities (tau, theta[j], nu, f[n], lp__)
/// stay available in `stan_variables`.
struct Reference {
  /// Coordinate names, as `names()` of the model.
  std::vector<std::string> names;
  /// Monte Carlo estimates from the Stan run, per coordinate.
  Vec mean, sd, mcse_mean, mcse_sd;
  /// Analytic mean and sd per coordinate (gauss_100, corr_gauss_50, funnel_10);
  /// empty otherwise. Prefer them when present: for funnel_10 the Stan run is
  /// known to be biased.
  Vec exact_mean, exact_sd;
  /// reference.json 'variables' as stored (constrained scale, with transformed
  /// parameters and lp__).
  std::vector<Summary> stan_variables;
  /// reference.json 'source' and 'note'.
  std::string source, note;

  bool has_exact() const { return exact_mean.size() != 0; }
  /// The 'variables' row called `name` (e.g. "tau", "theta[3]", "lp__").
  std::optional<Summary> variable(std::string_view name) const;
};

/// Loads reference.json of `posterior` and arranges it by the coordinate
/// `names` (see `Reference`). `dir` as in `posterior_dir`. A coordinate
/// missing from the file is InvalidArgument.
absl::StatusOr<Reference> load_reference(std::string_view posterior,
                                         const std::vector<std::string>& names,
                                         std::string_view dir = {});

}  // namespace nutshell::posteriors

// A per-parameter summary of MCMC draws, like NumPyro's `print_summary` and
// posterior's `summarise_draws`: usable as data and printable as a table.
#pragma once

#include <cstddef>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nutshell/diagnostics/diagnostics.hpp"

namespace nutshell::diagnostics {

/// One parameter (one dimension) of the summary. Statistics pool all
/// chains; sd uses denominator n - 1 and quantiles are type 7, as in
/// posterior's `summarise_draws` (NumPyro's `std` divides by n instead).
struct SummaryRow {
  std::string name;
  double mean = 0.0;
  double sd = 0.0;
  double median = 0.0;
  double q5 = 0.0;   ///< 5% quantile
  double q95 = 0.0;  ///< 95% quantile
  double ess_bulk = 0.0;
  double ess_tail = 0.0;
  double rhat = 0.0;
};

/// The summary of every parameter plus the run's divergence count.
struct Summary {
  std::vector<SummaryRow> rows;
  std::size_t num_divergences = 0;
  /// Sentences printed under the table (e.g. `sample`'s run warnings).
  std::vector<std::string> warnings;

  /// The table NumPyro prints: a header line, one right-aligned row per
  /// parameter (2 decimals, ESS rounded to integers), the number of
  /// divergences, then the warnings, if any. NaN diagnostics (constant draws) print as "nan".
  std::string to_string() const;
};

/// Prints `summary.to_string()`.
std::ostream& operator<<(std::ostream& os, const Summary& summary);

/// Summarises [chain, draw, dimension] draws. `names` labels the
/// dimensions; when empty they are called x[0], x[1], ...; otherwise it
/// needs one name per dimension. `num_divergences` is reported as given.
absl::StatusOr<Summary> summary(const Draws& draws,
                                std::size_t num_divergences = 0,
                                const std::vector<std::string>& names = {});

/// The columns of one summary row that need the parameter's draws sorted:
/// its median, 5% and 95% quantiles, R-hat, bulk and tail ESS.
struct RankedColumns {
  double median = 0.0, q5 = 0.0, q95 = 0.0;
  double rhat = 0.0, ess_bulk = 0.0, ess_tail = 0.0;
};

/// summary(draws, num_divergences, names) given `ranked`, one entry per
/// dimension holding exactly these draws' sorted columns (as
/// ConvergenceChecker::ranked() gives them after its last, complete check
/// of the same draws): only the means and sds are computed, so the table
/// costs one pass over the draws instead of a sort per parameter.
/// InvalidArgument if `ranked` has not one entry per dimension; the result
/// is otherwise only as right as `ranked`.
absl::StatusOr<Summary> summary(const Draws& draws, std::size_t num_divergences,
                                const std::vector<std::string>& names,
                                std::span<const RankedColumns> ranked);

/// Summarises [chain, draw] draws of one scalar quantity called `name`.
absl::StatusOr<Summary> summary(const ChainDraws& draws,
                                std::size_t num_divergences = 0,
                                const std::string& name = "x");

}  // namespace nutshell::diagnostics

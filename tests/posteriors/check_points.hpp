// Points where Stan evaluated each benchmark log density (check_points.json),
// for unit-testing the hand-written densities.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nutshell/core/types.hpp"

namespace nutshell::posteriors {

/// One unconstrained point with Stan's log_prob and gradient there.
struct CheckPoint {
  std::string label;
  Vec u;
  /// Stan's log_prob(u) with the log-Jacobian, i.e. lp__.
  double lp = 0.0;
  Vec grad;
  /// log_prob(u, adjust_transform = FALSE).
  double lp_without_jacobian = 0.0;
};

/// check_points.json: the points plus how closely the R reference
/// implementation (logdens_reference.R) matched Stan, a floor for what
/// double precision can be expected to reproduce.
struct CheckPoints {
  std::vector<std::string> coordinates;
  std::vector<CheckPoint> points;
  double max_abs_err_lp_R = 0.0;
  double max_abs_err_grad_R = 0.0;
};

/// Loads check_points.json of `posterior`; `dir` as in `posterior_dir`.
/// Every point must have as many entries as `coordinates`.
absl::StatusOr<CheckPoints> load_check_points(std::string_view posterior,
                                              std::string_view dir = {});

}  // namespace nutshell::posteriors

// The L-BFGS optimisation path Pathfinder builds on: liblbfgs (Debian's
// liblbfgs-dev) maximises the log density, and its progress callback records
// every accepted iterate and its gradient.
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include <lbfgs.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nutshell/core/logdensity.hpp"
#include "nutshell/core/types.hpp"

namespace nutshell::vi {

/// liblbfgs's settings that Pathfinder exposes (the rest keep the library's
/// defaults; the line search is backtracking with the Wolfe condition, which
/// copes with points where the log density is not finite by halving the step).
struct LbfgsOptions {
  int max_iterations = 1000;  ///< Stan's default; Blackjax uses 30
  int history_size = 6;       ///< L-BFGS memory (liblbfgs's m, Blackjax's maxcor)
  double gradient_tolerance = 1e-6;   ///< stop when |grad| < tol * max(1, |x|)
  double relative_tolerance = 1e-10;  ///< stop when the density stalls over one iteration
  int max_linesearch = 100;
};

/// The path: row l of `positions` / `gradients` is iterate l (row 0 is the
/// starting point); gradients are of log p (not of the minimised -log p).
struct LbfgsPath {
  Mat positions;
  Mat gradients;
  std::vector<double> logdensities;
  int lbfgs_status = 0;  ///< liblbfgs's return code (0 or 1 or 2: a normal stop)
  std::size_t num_evaluations = 0;  ///< log density (and gradient) evaluations
};

/// liblbfgs's status code by name, for messages.
std::string lbfgs_status_name(int code);

namespace detail {

template <LogDensity F>
struct LbfgsInstance {
  F* logdensity;
  std::size_t dim;
  Vec x, g;
  std::vector<double> xs, gs, lps;  // the recorded path, row-major
  absl::Status error;               // the first throw of the log density
  std::size_t evaluations = 0;
};

template <LogDensity F>
lbfgsfloatval_t lbfgs_evaluate(void* instance, const lbfgsfloatval_t* x, lbfgsfloatval_t* g,
                               const int n, const lbfgsfloatval_t /*step*/) {
  auto* in = static_cast<LbfgsInstance<F>*>(instance);
  if (!in->error.ok()) {  // stop spending evaluations once the density has thrown
    for (int i = 0; i < n; ++i) g[i] = 0.0;
    return std::numeric_limits<double>::infinity();
  }
  for (int i = 0; i < n; ++i) in->x(i) = x[i];
  ++in->evaluations;
  auto lp = evaluate(*in->logdensity, in->x, in->g);
  if (!lp.ok()) {
    in->error = lp.status();
    for (int i = 0; i < n; ++i) g[i] = 0.0;
    return std::numeric_limits<double>::infinity();
  }
  // A point outside the support: +inf makes the backtracking line search
  // shrink the step (a NaN would compare false and be accepted).
  if (!std::isfinite(*lp) || !all_finite(in->g)) {
    for (int i = 0; i < n; ++i) g[i] = 0.0;
    return std::numeric_limits<double>::infinity();
  }
  for (int i = 0; i < n; ++i) g[i] = -in->g(i);
  return -*lp;
}

template <LogDensity F>
int lbfgs_progress(void* instance, const lbfgsfloatval_t* x, const lbfgsfloatval_t* g,
                   const lbfgsfloatval_t fx, const lbfgsfloatval_t, const lbfgsfloatval_t,
                   const lbfgsfloatval_t, int n, int, int) {
  auto* in = static_cast<LbfgsInstance<F>*>(instance);
  for (int i = 0; i < n; ++i) {
    in->xs.push_back(x[i]);
    in->gs.push_back(-g[i]);
  }
  in->lps.push_back(-fx);
  return in->error.ok() ? 0 : 1;
}

}  // namespace detail

/// Maximises `logdensity` from `x0` with L-BFGS, recording the path.
/// Errors: InvalidArgument for a non-finite x0 or a log density or gradient
/// not finite there, or invalid options; the log density's own error if it
/// throws; FailedPrecondition when L-BFGS makes no progress at all (no
/// accepted iterate: the gradient vanishes at x0, or the first line search
/// fails), naming liblbfgs's code. A line search that fails later ends the
/// path where it is (`lbfgs_status` keeps the code).
template <LogDensity F>
absl::StatusOr<LbfgsPath> lbfgs_path(F& logdensity, const Vec& x0, const LbfgsOptions& options) {
  const std::size_t d = x0.size();
  if (d == 0) return absl::InvalidArgumentError("pathfinder: empty initial position");
  if (!all_finite(x0)) return absl::InvalidArgumentError("pathfinder: initial position not finite");
  if (options.history_size < 1 || options.max_iterations < 1 || options.max_linesearch < 1)
    return absl::InvalidArgumentError(
        "pathfinder: history_size, max_iterations and max_linesearch must be >= 1");
  detail::LbfgsInstance<F> in{&logdensity, d, xt::zeros<double>({d}), xt::zeros<double>({d})};
  auto lp0 = evaluate(logdensity, x0, in.g);
  if (!lp0.ok()) return lp0.status();
  if (!std::isfinite(*lp0) || !all_finite(in.g))
    return absl::InvalidArgumentError(
        "pathfinder: the log density or its gradient is not finite at the initial position");
  in.evaluations = 1;
  in.xs.assign(x0.begin(), x0.end());
  in.gs.assign(in.g.begin(), in.g.end());
  in.lps.push_back(*lp0);

  lbfgs_parameter_t param;
  lbfgs_parameter_init(&param);
  param.m = options.history_size;
  param.epsilon = options.gradient_tolerance;
  param.past = 1;
  param.delta = options.relative_tolerance;
  param.max_iterations = options.max_iterations;
  param.max_linesearch = options.max_linesearch;
  param.linesearch = LBFGS_LINESEARCH_BACKTRACKING_WOLFE;
  std::vector<double> x(x0.begin(), x0.end());
  double fx = 0.0;
  const int code = lbfgs(static_cast<int>(d), x.data(), &fx, detail::lbfgs_evaluate<F>,
                         detail::lbfgs_progress<F>, &in, &param);
  if (!in.error.ok()) return in.error;
  if (code >= LBFGSERR_INVALID_N && code <= LBFGSERR_INVALID_ORTHANTWISE_END)
    return absl::InvalidArgumentError(
        absl::StrCat("pathfinder: liblbfgs rejected its parameters: ", lbfgs_status_name(code)));
  const std::size_t rows = in.lps.size();
  if (rows < 2)
    return absl::FailedPreconditionError(absl::StrCat(
        "pathfinder: L-BFGS made no progress from the initial position (", lbfgs_status_name(code),
        "): the gradient vanishes there or no step along the search direction increases the "
        "log density"));
  LbfgsPath path;
  path.positions = Mat::from_shape({rows, d});
  path.gradients = Mat::from_shape({rows, d});
  std::copy(in.xs.begin(), in.xs.end(), path.positions.begin());
  std::copy(in.gs.begin(), in.gs.end(), path.gradients.begin());
  path.logdensities = std::move(in.lps);
  path.lbfgs_status = code;
  path.num_evaluations = in.evaluations;
  return path;
}

}  // namespace nutshell::vi

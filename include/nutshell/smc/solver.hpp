// Choosing the next temperature of adaptive tempered SMC (Blackjax's
// `smc.solver.dichotomy` and `smc.ess.ess_solver`).
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <vector>

#include "nutshell/smc/particles.hpp"

namespace nutshell::smc {

/// Options of the bisection (Blackjax's defaults).
struct DichotomyOptions {
  double eps = 1e-4;   ///< stop when |f(lo) - f(hi)| < eps
  int max_iter = 100;  ///< and after this many halvings at most
};

/// Root of a decreasing `fun` on [min_delta, max_delta] by bisection, with
/// Blackjax's semantics: when fun(max_delta) >= 0 the whole interval is
/// admissible and max_delta is returned; otherwise the interval is halved
/// until |f(lo) - f(hi)| < eps or max_iter halvings, and the lower end (the
/// side where fun >= 0, i.e. the ESS is at least its target) is returned.
template <class Fn>
double dichotomy(Fn&& fun, double min_delta, double max_delta, DichotomyOptions options = {}) {
  double f_hi = fun(max_delta);
  if (f_hi >= 0.0) return max_delta;
  double lo = min_delta, hi = max_delta, f_lo = fun(min_delta);
  for (int i = 0; i < options.max_iter && std::abs(f_lo - f_hi) >= options.eps; ++i) {
    const double mid = 0.5 * (lo + hi);
    const double f_mid = fun(mid);
    if (f_mid >= 0.0) {
      lo = mid;
      f_lo = f_mid;
    } else {
      hi = mid;
      f_hi = f_mid;
    }
  }
  return lo;
}

/// The tempering increment delta in [0, max_delta] at which the incremental
/// weights delta * loglikelihood_i have an ESS of `target_ess` * N
/// (Blackjax's `ess_solver`: the ESS of the incremental weights alone, on
/// the current particles). Non-finite log-likelihoods count as weight zero.
/// `scratch` is resized to N.
inline double ess_solver(std::span<const double> loglikelihood, double target_ess, double max_delta,
                         std::vector<double>& scratch, DichotomyOptions options = {}) {
  const std::size_t n = loglikelihood.size();
  scratch.resize(n);
  const double target = std::log(target_ess * static_cast<double>(n));
  auto fun = [&](double delta) {
    for (std::size_t i = 0; i < n; ++i) {
      const double l = loglikelihood[i];
      scratch[i] = std::isfinite(l) ? delta * l
                   : (l > 0.0 || delta == 0.0) ? 0.0
                                               : -std::numeric_limits<double>::infinity();
    }
    return log_ess(scratch) - target;
  };
  return dichotomy(fun, 0.0, max_delta, options);
}

}  // namespace nutshell::smc

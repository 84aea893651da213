// Pathfinder (Zhang, Carpenter, Gelman and Vehtari 2022; Blackjax's
// vi.pathfinder): follow the L-BFGS path from the starting point, form the
// local normal approximation at each iterate, estimate each one's ELBO by
// Monte Carlo, and keep the best.
//
//   auto result = vi::pathfinder::approximate(key, logdensity, x0);
//   // result->state: the chosen approximation; result->draws its draws,
//   // result->logdensities log p of each draw (for importance weighting).
//
// Keys: split<2>(key) = {ELBO key, draws key}. Every approximation's ELBO
// is estimated from the same standard normals (the ELBO key): common random
// numbers, so that the comparison between approximations is not decided by
// which one drew a lucky sample (the maximum of noisy estimates otherwise
// favours the noisiest approximations).
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nutshell/core/key.hpp"
#include "nutshell/core/logdensity.hpp"
#include "nutshell/core/types.hpp"
#include "nutshell/vi/lbfgs_path.hpp"
#include "nutshell/vi/pathfinder_state.hpp"

namespace nutshell::vi::pathfinder {

/// Pathfinder's settings (defaults as Stan's, except the ELBO draws).
struct Options {
  LbfgsOptions lbfgs;
  std::size_t num_elbo_draws = 50;  ///< Monte Carlo draws per ELBO estimate (Stan: 25)
  std::size_t num_draws = 1000;     ///< draws returned from the chosen approximation
};

/// What a Pathfinder run returns.
struct Result {
  State state;              ///< the approximation with the best ELBO
  Mat draws;                ///< `num_draws` draws from it, one per row
  Vec log_q;                ///< log q of each draw
  Vec logdensities;         ///< log p of each draw (-inf where not finite)
  std::vector<double> elbos;  ///< the ELBO estimate along the path (iterates 1..L)
  std::size_t path_length = 0;  ///< L-BFGS iterates, the start included
  int lbfgs_status = 0;         ///< liblbfgs's return code (see lbfgs_status_name)
  std::size_t num_evaluations = 0;  ///< log density evaluations in all
};

namespace detail {
// log p at each draw (-inf where not finite); counts evaluations.
template <LogDensity F>
absl::Status logdensities(F& logdensity, const Mat& draws, Vec& out, std::size_t& evaluations) {
  const std::size_t n = draws.shape(0), d = draws.shape(1);
  out = Vec::from_shape({n});
  Vec x = Vec::from_shape({d}), g = Vec::from_shape({d});
  for (std::size_t r = 0; r < n; ++r) {
    x = xt::view(draws, r, xt::all());
    auto lp = evaluate(logdensity, x, g);
    ++evaluations;
    if (!lp.ok()) return lp.status();
    out(r) = std::isfinite(*lp) ? *lp : -std::numeric_limits<double>::infinity();
  }
  return absl::OkStatus();
}
}  // namespace detail

/// Runs Pathfinder from `x0`. Errors: those of `lbfgs_path` (a non-finite
/// start, a log density that throws, no L-BFGS progress), and
/// FailedPrecondition when no approximation along the path has a finite
/// ELBO estimate (every one puts mass where the density is not finite, or
/// no inverse Hessian estimate is positive definite).
template <LogDensity F>
absl::StatusOr<Result> approximate(const Key& key, F& logdensity, const Vec& x0,
                                   const Options& options = {}) {
  if (options.num_elbo_draws == 0 || options.num_draws == 0)
    return absl::InvalidArgumentError("pathfinder: num_elbo_draws and num_draws must be > 0");
  auto path = lbfgs_path(logdensity, x0, options.lbfgs);
  if (!path.ok()) return path.status();
  Result out;
  out.path_length = path->positions.shape(0);
  out.lbfgs_status = path->lbfgs_status;
  out.num_evaluations = path->num_evaluations;
  std::vector<State> candidates =
      approximations(*path, static_cast<std::size_t>(options.lbfgs.history_size));
  const auto [elbo_key, draws_key] = split<2>(key);
  const double neg_inf = -std::numeric_limits<double>::infinity();
  std::ptrdiff_t best = -1;
  Vec lp;
  for (std::size_t c = 0; c < candidates.size(); ++c) {
    State& st = candidates[c];
    st.elbo = neg_inf;
    auto draws = sample(elbo_key, st, options.num_elbo_draws);
    if (draws.ok()) {
      auto s = detail::logdensities(logdensity, draws->positions, lp, out.num_evaluations);
      if (!s.ok()) return s;
      const double elbo = xt::mean(lp - draws->log_q)();
      if (std::isfinite(elbo)) st.elbo = elbo;
    }
    out.elbos.push_back(st.elbo);
    if (st.elbo > neg_inf && (best < 0 || st.elbo > candidates[best].elbo))
      best = static_cast<std::ptrdiff_t>(c);
  }
  if (best < 0)
    return absl::FailedPreconditionError(absl::StrCat(
        "pathfinder: no approximation along the path (", candidates.size(),
        " of them) has a finite ELBO estimate"));
  out.state = std::move(candidates[best]);
  auto draws = sample(draws_key, out.state, options.num_draws);
  if (!draws.ok()) return draws.status();
  out.draws = std::move(draws->positions);
  out.log_q = std::move(draws->log_q);
  auto s = detail::logdensities(logdensity, out.draws, out.logdensities, out.num_evaluations);
  if (!s.ok()) return s;
  return out;
}

}  // namespace nutshell::vi::pathfinder

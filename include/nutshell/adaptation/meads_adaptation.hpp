// MEADS (Hoffman and Sountsov 2022, Algorithm 3) for generalised HMC
// (mcmc/ghmc.hpp), as Blackjax's `meads_adaptation`: no trajectory length
// to search, because GHMC takes one leapfrog step per transition and its
// momentum persistence (alpha) plays the trajectory's part.
//
// The chains are split into K folds. At iteration t, for each fold k:
//   * its scale s_k is the per-coordinate sd of its chains' positions;
//   * fold k uses the step size and scale of fold k-1 (so no chain is moved
//     by parameters computed from its own position, which keeps the
//     adaptation from biasing the chain it drives):
//       eps = min(1, 0.5 / sqrt(lambda_max(grad * s)))
//     the largest eigenvalue of the preconditioned gradients' second
//     moment, i.e. the stiffest direction;
//   * its damping from its own preconditioned, centred positions:
//       gamma = max(1 / sqrt(lambda_max(x / s)), slowdown / ((t + 1) eps)),
//       alpha = 1 - exp(-2 eps gamma),  delta = alpha / 2;
//   * the chains of fold t mod K do not move this iteration;
// and every K iterations the chains are reshuffled across folds.
// The sampling parameters are the folds' means.
//
// Pure (init, update, final) on a value-type state; `update` reads every
// chain's report (position and gradient) combined in chain order
// (cross_chain.hpp) and says which chains move with which parameters.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "nutshell/adaptation/cross_chain.hpp"
#include "nutshell/core/key.hpp"
#include "nutshell/core/metric.hpp"
#include "nutshell/core/types.hpp"
#include "nutshell/mcmc/ghmc.hpp"

namespace nutshell::adaptation {

/// MEADS's constants (the paper's and Blackjax's defaults).
struct MeadsOptions {
  std::size_t num_folds = 4;          ///< K; must divide the number of chains
  double step_size_multiplier = 0.5;  ///< eps = multiplier / sqrt(lambda_max)
  double damping_slowdown = 1.0;      ///< the early damping floor slowdown / (t eps)

  /// An error for `num_chains` chains when the options do not fit.
  absl::Status validate(std::size_t num_chains) const {
    if (num_folds < 1) return absl::InvalidArgumentError("MEADS num_folds must be >= 1");
    if (num_chains % num_folds != 0 || num_chains / num_folds < 2)
      return absl::InvalidArgumentError(
          absl::StrCat("MEADS needs num_chains divisible by num_folds with >= 2 chains per fold; "
                       "got ", num_chains, " chains and ", num_folds, " folds"));
    if (!(step_size_multiplier > 0.0) || !(damping_slowdown > 0.0))
      return absl::InvalidArgumentError("MEADS step_size_multiplier and damping_slowdown must be > 0");
    return absl::OkStatus();
  }
};

/// Per-fold parameters (Blackjax's MEADSAdaptationState) plus the fold of
/// each chain.
struct MeadsState {
  std::int64_t iteration = 0;
  std::vector<double> step_size, alpha, delta;  ///< per fold
  std::vector<Vec> sigma;                       ///< per fold: the momentum scale
  std::vector<std::size_t> fold_of_chain;       ///< chain -> fold
  std::size_t frozen_fold = 0;                  ///< the fold that does not move this iteration
};

/// MEADS as an (init, update, final) triple.
struct Meads {
  MeadsOptions options;

  /// Chains 0..n/K-1 in fold 0, the next n/K in fold 1, ...
  MeadsState init(std::size_t num_chains) const {
    MeadsState s;
    s.fold_of_chain.resize(num_chains);
    const std::size_t per = num_chains / options.num_folds;
    for (std::size_t c = 0; c < num_chains; ++c) s.fold_of_chain[c] = c / per;
    return s;
  }

  /// The parameters of iteration s.iteration from every chain's current
  /// position and gradient (`stats`, chain order); reshuffles the folds
  /// with `key` every K iterations. Afterwards chain c moves (unless its
  /// fold is frozen) with params(s, c).
  MeadsState update(MeadsState s, std::span<const cross_chain::ChainStatistics> stats,
                    const Key& key) const {
    const std::size_t k_folds = options.num_folds, n = stats.size();
    if (s.iteration > 0 && s.iteration % static_cast<std::int64_t>(k_folds) == 0) {
      // Fisher-Yates with the iteration's key: a chain's fold is a pure
      // function of the run's key, never of the thread that ran it.
      std::vector<std::size_t> perm(n);
      std::iota(perm.begin(), perm.end(), 0);
      for (std::size_t i = n; i > 1; --i) {
        const auto j = static_cast<std::size_t>(uniform(fold_in(key, i)) * static_cast<double>(i));
        std::swap(perm[i - 1], perm[std::min(j, i - 1)]);
      }
      const std::size_t per = n / k_folds;
      for (std::size_t r = 0; r < n; ++r) s.fold_of_chain[perm[r]] = r / per;
    }
    std::vector<std::vector<std::size_t>> rows(k_folds);
    for (std::size_t c = 0; c < n; ++c) rows[s.fold_of_chain[c]].push_back(c);
    const auto pos = [](const cross_chain::ChainStatistics& st) -> const Vec& { return st.position; };
    std::vector<Vec> scale(k_folds);
    std::vector<double> own_step(k_folds);
    for (std::size_t k = 0; k < k_folds; ++k) {
      scale[k] = cross_chain::sd_of(stats, rows[k], pos);
      for (std::size_t i = 0; i < scale[k].size(); ++i)
        if (!(scale[k](i) > 0.0) || !std::isfinite(scale[k](i))) scale[k](i) = 1.0;
      std::vector<Vec> g(rows[k].size());
      for (std::size_t r = 0; r < rows[k].size(); ++r) g[r] = stats[rows[k][r]].logdensity_grad * scale[k];
      const double lambda = cross_chain::maximum_eigenvalue(g.size(), [&](std::size_t r) -> const Vec& { return g[r]; });
      own_step[k] = lambda > 0.0 ? std::min(1.0, options.step_size_multiplier / std::sqrt(lambda)) : 1.0;
    }
    s.step_size.assign(k_folds, 0.0);
    s.alpha.assign(k_folds, 0.0);
    s.delta.assign(k_folds, 0.0);
    s.sigma.assign(k_folds, Vec());
    const double t1 = static_cast<double>(s.iteration + 1);
    for (std::size_t k = 0; k < k_folds; ++k) {
      const std::size_t prev = (k + k_folds - 1) % k_folds;
      s.step_size[k] = own_step[prev];
      s.sigma[k] = scale[prev];
      const Vec mean = cross_chain::mean_of(stats, rows[k], pos);
      std::vector<Vec> x(rows[k].size());
      for (std::size_t r = 0; r < rows[k].size(); ++r)
        x[r] = (stats[rows[k][r]].position - mean) / scale[k];
      const double lambda = cross_chain::maximum_eigenvalue(x.size(), [&](std::size_t r) -> const Vec& { return x[r]; });
      const double eps = s.step_size[k];
      double gamma = options.damping_slowdown / (t1 * eps);
      if (lambda > 0.0) gamma = std::max(gamma, 1.0 / std::sqrt(lambda));
      s.alpha[k] = 1.0 - std::exp(-2.0 * eps * gamma);
      s.delta[k] = s.alpha[k] / 2.0;
    }
    s.frozen_fold = k_folds > 1 ? static_cast<std::size_t>(s.iteration % static_cast<std::int64_t>(k_folds)) : k_folds;
    s.iteration += 1;
    return s;
  }

  /// True when chain c moves in the iteration `update` just prepared.
  bool moves(const MeadsState& s, std::size_t c) const { return s.fold_of_chain[c] != s.frozen_fold; }

  /// Chain c's GHMC parameters for the iteration `update` just prepared.
  ghmc::Params params(const MeadsState& s, std::size_t c) const {
    return fold_params(s.step_size[s.fold_of_chain[c]], s.sigma[s.fold_of_chain[c]],
                       s.alpha[s.fold_of_chain[c]], s.delta[s.fold_of_chain[c]]);
  }

  /// The sampling parameters: the folds' mean step size, scale, alpha, delta.
  ghmc::Params final(const MeadsState& s) const {
    const double k = static_cast<double>(s.step_size.size());
    Vec sigma = s.sigma[0] * 0.0;
    double eps = 0.0, alpha = 0.0, delta = 0.0;
    for (std::size_t f = 0; f < s.step_size.size(); ++f) {
      eps += s.step_size[f] / k;
      alpha += s.alpha[f] / k;
      delta += s.delta[f] / k;
      sigma += s.sigma[f] / k;
    }
    return fold_params(eps, sigma, alpha, delta);
  }

 private:
  static ghmc::Params fold_params(double eps, const Vec& sigma, double alpha, double delta) {
    ghmc::Params p;
    p.step_size = eps;
    p.alpha = alpha;
    p.delta = delta;
    Vec d = sigma * sigma;  // Blackjax's momentum_inverse_scale s is the inverse mass s^2
    auto m = Metric::diagonal(d);
    p.inverse_mass_matrix = m.ok() ? *std::move(m) : Metric::identity(sigma.size());
    return p;
  }
};

}  // namespace nutshell::adaptation

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
// One extension (on by default; adapt_low_rank = false is the paper's and
// Blackjax's MEADS): the per-fold diagonal scale is replaced, once the
// first window of `low_rank_interval` iterations is full, by nutpie's
// diagonal + low-rank metric (low_rank.hpp) from every chain's positions
// AND gradients over that window, re-estimated after each window, shared by
// the folds (the step size and damping stay per fold, from the previous
// fold's preconditioned gradients and the fold's own whitened positions, as
// above). A diagonal scale makes eps the sd of the posterior's narrowest
// direction after diagonal whitening: on a correlated posterior
// (corr_gauss_50, condition number 1e4) or a latent GP whose
// hyperparameters and latent values are correlated (gp_student_t_100), the
// step is then 0.02-0.06 and one leapfrog step per iteration does not mix.
// The adaptation is only during warmup (the sampling parameters are fixed),
// so a metric estimated from every chain biases nothing.
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
#include "nutshell/adaptation/cross_chain_low_rank.hpp"
#include "nutshell/adaptation/low_rank.hpp"
#include "nutshell/core/key.hpp"
#include "nutshell/core/metric.hpp"
#include "nutshell/core/types.hpp"
#include "nutshell/core/vector_ops.hpp"
#include "nutshell/mcmc/ghmc.hpp"

namespace nutshell::adaptation {

/// MEADS's constants (the paper's and Blackjax's defaults).
struct MeadsOptions {
  std::size_t num_folds = 4;          ///< K; must divide the number of chains
  /// eps = multiplier / sqrt(lambda_max) (the paper's 0.5). Lower it where
  /// the posterior has stiff tails, as one raises Stan's adapt_delta:
  /// gp_student_t_100 needs 0.3, since at 0.5 chains that reach its tail stick.
  double step_size_multiplier = 0.5;
  double damping_slowdown = 1.0;      ///< the early damping floor slowdown / (t eps)
  /// Extension: the folds share nutpie's diagonal + low-rank metric from
  /// every chain's positions and gradients over the last
  /// `low_rank_interval` iterations (false: the per-fold diagonal scale).
  /// Longer than ChEES's window: a GHMC iteration is one leapfrog step, so
  /// consecutive draws of a chain are close.
  bool adapt_low_rank = true;
  std::size_t low_rank_interval = 50;
  LowRankOptions low_rank;

  /// An error for `num_chains` chains when the options do not fit.
  absl::Status validate(std::size_t num_chains) const {
    if (num_folds < 1) return absl::InvalidArgumentError("MEADS num_folds must be >= 1");
    if (num_chains % num_folds != 0 || num_chains / num_folds < 2)
      return absl::InvalidArgumentError(
          absl::StrCat("MEADS needs num_chains divisible by num_folds with >= 2 chains per fold; "
                       "got ", num_chains, " chains and ", num_folds, " folds"));
    if (!(step_size_multiplier > 0.0) || !(damping_slowdown > 0.0))
      return absl::InvalidArgumentError("MEADS step_size_multiplier and damping_slowdown must be > 0");
    if (adapt_low_rank && low_rank_interval < 1)
      return absl::InvalidArgumentError("MEADS low_rank_interval must be >= 1");
    if (auto s = low_rank.validate(); adapt_low_rank && !s.ok()) return s;
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
  std::vector<ghmc::Params> fold_params;        ///< per fold: the GHMC parameters above
  DrawGradientWindow window;                    ///< the low-rank estimate's draws (all chains)
  Metric metric;                                ///< the shared low-rank metric, once has_low_rank
  bool has_low_rank = false;
  std::uint64_t metric_version = 0;             ///< +1 whenever `metric` is replaced
  std::uint64_t fold_metric_version = 0;        ///< the version fold_params hold
  // update's scratch, kept so that a lockstep iteration allocates nothing.
  std::vector<std::vector<std::size_t>> rows;
  std::vector<std::size_t> perm;
  std::vector<Vec> scale, work;
  std::vector<double> own_step;
  Vec mean, sigma_sq;
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
    const std::size_t dim = stats[0].position.size();
    if (s.iteration > 0 && s.iteration % static_cast<std::int64_t>(k_folds) == 0) {
      // Fisher-Yates with the iteration's key: a chain's fold is a pure
      // function of the run's key, never of the thread that ran it.
      s.perm.resize(n);
      std::iota(s.perm.begin(), s.perm.end(), 0);
      for (std::size_t i = n; i > 1; --i) {
        const auto j = static_cast<std::size_t>(uniform(fold_in(key, i)) * static_cast<double>(i));
        std::swap(s.perm[i - 1], s.perm[std::min(j, i - 1)]);
      }
      const std::size_t per = n / k_folds;
      for (std::size_t r = 0; r < n; ++r) s.fold_of_chain[s.perm[r]] = r / per;
    }
    if (options.adapt_low_rank) update_low_rank(s, stats);
    s.rows.resize(k_folds);
    for (auto& r : s.rows) r.clear();
    for (std::size_t c = 0; c < n; ++c) s.rows[s.fold_of_chain[c]].push_back(c);
    s.scale.resize(k_folds);
    s.work.resize(n);
    s.own_step.resize(k_folds);
    ensure_size(s.mean, dim);
    const auto row = [&s](std::size_t r) -> const Vec& { return s.work[r]; };
    for (std::size_t k = 0; k < k_folds; ++k) {
      const auto& rows = s.rows[k];
      fold_mean(stats, rows, s.mean);
      Vec& sc = s.scale[k];
      ensure_size(sc, dim);
      if (s.has_low_rank) {  // the shared metric: gradients whitened by R^T
        for (std::size_t r = 0; r < rows.size(); ++r) {
          ensure_size(s.work[r], dim);
          s.metric.sqrt_transpose_times(stats[rows[r]].logdensity_grad, s.work[r]);
        }
        const double lambda = cross_chain::maximum_eigenvalue(rows.size(), row);
        s.own_step[k] = lambda > 0.0 ? std::min(1.0, options.step_size_multiplier / std::sqrt(lambda)) : 1.0;
        continue;
      }
      sc.fill(0.0);
      for (std::size_t r : rows)
        for (std::size_t i = 0; i < dim; ++i) {
          const double e = stats[r].position(i) - s.mean(i);
          sc(i) += e * e;
        }
      for (std::size_t i = 0; i < dim; ++i) {
        sc(i) = std::sqrt(sc(i) / static_cast<double>(rows.size()));
        if (!(sc(i) > 0.0) || !std::isfinite(sc(i))) sc(i) = 1.0;
      }
      for (std::size_t r = 0; r < rows.size(); ++r) {
        ensure_size(s.work[r], dim);
        for (std::size_t i = 0; i < dim; ++i)
          s.work[r](i) = stats[rows[r]].logdensity_grad(i) * sc(i);
      }
      const double lambda = cross_chain::maximum_eigenvalue(rows.size(), row);
      s.own_step[k] = lambda > 0.0 ? std::min(1.0, options.step_size_multiplier / std::sqrt(lambda)) : 1.0;
    }
    s.step_size.resize(k_folds);
    s.alpha.resize(k_folds);
    s.delta.resize(k_folds);
    s.sigma.resize(k_folds);
    const double t1 = static_cast<double>(s.iteration + 1);
    for (std::size_t k = 0; k < k_folds; ++k) {
      const std::size_t prev = (k + k_folds - 1) % k_folds;
      const auto& rows = s.rows[k];
      s.step_size[k] = s.own_step[prev];
      fold_mean(stats, rows, s.mean);
      if (s.has_low_rank) {  // positions whitened by R^-1
        ops::copy(s.mean, s.sigma[k]);  // (scratch: sigma is unused with the shared metric)
        for (std::size_t r = 0; r < rows.size(); ++r) {
          for (std::size_t i = 0; i < dim; ++i) s.sigma[k](i) = stats[rows[r]].position(i) - s.mean(i);
          inverse_sqrt_times(s.metric, s.sigma[k], s.work[r]);
        }
      } else {
        ops::copy(s.scale[prev], s.sigma[k]);
        for (std::size_t r = 0; r < rows.size(); ++r)
          for (std::size_t i = 0; i < dim; ++i)
            s.work[r](i) = (stats[rows[r]].position(i) - s.mean(i)) / s.scale[k](i);
      }
      const double lambda = cross_chain::maximum_eigenvalue(rows.size(), row);
      const double eps = s.step_size[k];
      double gamma = options.damping_slowdown / (t1 * eps);
      if (lambda > 0.0) gamma = std::max(gamma, 1.0 / std::sqrt(lambda));
      s.alpha[k] = 1.0 - std::exp(-2.0 * eps * gamma);
      s.delta[k] = s.alpha[k] / 2.0;
    }
    s.frozen_fold = k_folds > 1 ? static_cast<std::size_t>(s.iteration % static_cast<std::int64_t>(k_folds)) : k_folds;
    s.iteration += 1;
    s.fold_params.resize(k_folds);
    for (std::size_t k = 0; k < k_folds; ++k) {
      if (s.has_low_rank) {  // the metric is copied only when it changes
        ghmc::Params& p = s.fold_params[k];
        p.step_size = s.step_size[k];
        p.alpha = s.alpha[k];
        p.delta = s.delta[k];
        if (s.fold_metric_version != s.metric_version) p.inverse_mass_matrix = s.metric;
        continue;
      }
      assign_fold_params(s.step_size[k], s.sigma[k], s.alpha[k], s.delta[k], s.sigma_sq,
                         s.fold_params[k]);
    }
    s.fold_metric_version = s.metric_version;
    return s;
  }

  /// Chain c's GHMC parameters for the iteration `update` just prepared,
  /// by reference (no copy: the lockstep loop's allocation-free form).
  const ghmc::Params& params_of(const MeadsState& s, std::size_t c) const {
    return s.fold_params[s.fold_of_chain[c]];
  }

  /// True when chain c moves in the iteration `update` just prepared.
  bool moves(const MeadsState& s, std::size_t c) const { return s.fold_of_chain[c] != s.frozen_fold; }

  /// Chain c's GHMC parameters for the iteration `update` just prepared.
  ghmc::Params params(const MeadsState& s, std::size_t c) const {
    if (s.has_low_rank) return s.fold_params[s.fold_of_chain[c]];
    return fold_params(s.step_size[s.fold_of_chain[c]], s.sigma[s.fold_of_chain[c]],
                       s.alpha[s.fold_of_chain[c]], s.delta[s.fold_of_chain[c]]);
  }

  /// The sampling parameters: the folds' mean step size, scale, alpha,
  /// delta (the shared metric instead of the scale once has_low_rank).
  ghmc::Params final(const MeadsState& s) const {
    const double k = static_cast<double>(s.step_size.size());
    if (s.has_low_rank) {
      ghmc::Params p;
      p.step_size = p.alpha = p.delta = 0.0;
      for (std::size_t f = 0; f < s.step_size.size(); ++f) {
        p.step_size += s.step_size[f] / k;
        p.alpha += s.alpha[f] / k;
        p.delta += s.delta[f] / k;
      }
      p.inverse_mass_matrix = s.metric;
      return p;
    }
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
  // The shared windowed estimate (cross_chain_low_rank.hpp) from the chains
  // that moved (all of them at the first iteration); a window ends every
  // low_rank_interval iterations after the first.
  void update_low_rank(MeadsState& s, std::span<const cross_chain::ChainStatistics> stats) const {
    const bool window_ends =
        s.iteration != 0 && s.iteration % static_cast<std::int64_t>(options.low_rank_interval) == 0;
    const bool first = s.iteration == 0;
    if (update_cross_chain_low_rank(s.window, s.metric, stats, stats[0].position.size(),
                                    options.low_rank_interval, window_ends, options.low_rank,
                                    [first](const auto& st) { return st.active || first; })) {
      s.has_low_rank = true;
      ++s.metric_version;
    }
  }

  // out = R^-1 x for the square root R of the metric that
  // Metric::sqrt_transpose_times uses: x / sigma for a diagonal one,
  // (I + U (Lambda^-1/2 - I) U^T) (x / sigma) for a low-rank one (the
  // rank-one factors commute, U's columns being orthonormal).
  static void inverse_sqrt_times(const Metric& m, const Vec& x, Vec& out) {
    if (m.kind() != Metric::Kind::kLowRank) {
      const Vec& d = m.inverse_mass_diagonal();
      for (std::size_t i = 0; i < x.size(); ++i) out(i) = x(i) / std::sqrt(d(i));
      return;
    }
    const Vec& sc = m.low_rank_scale();
    const Mat& u = m.low_rank_basis();
    const Vec& lambda = m.low_rank_eigenvalues();
    const std::size_t d = x.size();
    for (std::size_t i = 0; i < d; ++i) out(i) = x(i) / std::sqrt(sc(i));
    for (std::size_t j = 0; j < lambda.size(); ++j) {
      const double* uj = u.data() + j * d;
      double dot = 0.0;
      for (std::size_t i = 0; i < d; ++i) dot += uj[i] * out(i);
      const double a = (1.0 / std::sqrt(lambda(j)) - 1.0) * dot;
      for (std::size_t i = 0; i < d; ++i) out(i) += a * uj[i];
    }
  }

  // Mean of the fold's positions (as cross_chain::mean_of, bitwise).
  static void fold_mean(std::span<const cross_chain::ChainStatistics> stats,
                        const std::vector<std::size_t>& rows, Vec& mean) {
    mean.fill(0.0);
    for (std::size_t r : rows)
      for (std::size_t i = 0; i < mean.size(); ++i) mean(i) += 1.0 * stats[r].position(i);
    for (std::size_t i = 0; i < mean.size(); ++i) mean(i) = mean(i) / static_cast<double>(rows.size());
  }

  // fold_params into `p`, in place when p already holds a diagonal metric.
  static void assign_fold_params(double eps, const Vec& sigma, double alpha, double delta,
                                 Vec& sigma_sq, ghmc::Params& p) {
    p.step_size = eps;
    p.alpha = alpha;
    p.delta = delta;
    ensure_size(sigma_sq, sigma.size());
    for (std::size_t i = 0; i < sigma.size(); ++i) sigma_sq(i) = sigma(i) * sigma(i);
    if (p.inverse_mass_matrix.kind() == Metric::Kind::kDiagonal &&
        p.inverse_mass_matrix.dim() == sigma.size() &&
        p.inverse_mass_matrix.assign_diagonal(sigma_sq).ok())
      return;
    auto m = Metric::diagonal(sigma_sq);
    p.inverse_mass_matrix = m.ok() ? *std::move(m) : Metric::identity(sigma.size());
  }

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

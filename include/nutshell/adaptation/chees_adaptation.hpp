// ChEES adaptation (Hoffman, Radul and Sountsov 2021) of jittered HMC
// (mcmc/dynamic_hmc.hpp) across many chains, as Blackjax's
// `chees_adaptation`:
//   * the step size by dual averaging of the HARMONIC mean of the chains'
//     acceptance rates toward 0.651 (the harmonic mean punishes the one
//     stuck chain that an arithmetic mean hides);
//   * the trajectory length T by Adam ascent on log T of the ChEES
//     criterion (the change in the cross-chain estimate of E|x - E x|^2),
//     whose per-chain gradient is
//       u T (|x' - m'|^2 - |x - m|^2) ((x' - m') . v')
//     for jitter u, proposal x' with velocity v', and cross-chain means m
//     (of the starts) and m' (of the proposals, acceptance-weighted),
//     averaged over the chains with weights = acceptance rates; each log
//     update is clipped to +-0.35 (TFP's original);
//   * both smoothed by moving averages in log space with weights
//     step^-decay_rate, whose final values are the sampling parameters
//     (during warmup the iterates drive the transitions: see
//     adapt_on_iterate for where this departs from Blackjax).
// One extension (on by default, off reproduces Blackjax): a diagonal
// metric, the cross-chain variance of the positions, smoothed with the same
// weights; the ChEES distances are then measured in the metric's scale, so
// the criterion weighs every coordinate by its own spread.
// A second extension (on by default): a low-rank correction on top of a
// diagonal, nutpie's estimator (low_rank.hpp) from the positions AND
// gradients of all chains over the last `low_rank_interval` iterations,
// recomputed at the end of every such window. Many chains make this
// cheap: 32 chains x 20 iterations are 640 draws, enough for the full
// covariance of a 100-dimensional posterior, and the gradients make the
// estimate exact for a Gaussian whatever the chains' spread. Without it a
// correlated posterior (corr_gauss_50, condition number 1e4) forces a
// tiny step size along the short directions and the chains do not mix.
//
// Pure (init, update, final) on a value-type state; `update` reads the
// chains' reports already combined in chain order (cross_chain.hpp).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "nutshell/adaptation/cross_chain.hpp"
#include "nutshell/adaptation/cross_chain_low_rank.hpp"
#include "nutshell/adaptation/dual_averaging.hpp"
#include "nutshell/adaptation/low_rank.hpp"
#include "nutshell/core/metric.hpp"
#include "nutshell/core/types.hpp"
#include "nutshell/mcmc/dynamic_hmc.hpp"

namespace nutshell::adaptation {

/// ChEES's constants (Blackjax's defaults unless said otherwise).
struct CheesOptions {
  double target_acceptance_rate = 0.651;  ///< of the harmonic mean (optimal HMC, Beskos et al.)
  double decay_rate = 0.5;                ///< moving-average weight step^-decay_rate
  double jitter_amount = 1.0;             ///< see dynamic_hmc::Params
  dynamic_hmc::Jitter jitter = dynamic_hmc::Jitter::kHalton;
  int max_leapfrog_steps = 1000;          ///< T <= max_leapfrog_steps * step size
  double initial_step_size = 1.0;
  /// Adam on log T (Blackjax takes any optax optimizer; this is adam(lr)).
  double learning_rate = 0.025;
  double adam_beta1 = 0.9;
  double adam_beta2 = 0.999;
  double adam_eps = 1e-8;
  double log_update_clip = 0.35;          ///< TFP's clip of each log-T update
  /// Extension (true by default; false is Blackjax): the next transition
  /// uses Adam's iterate of log T, as TFP's original and as the step size
  /// uses dual averaging's iterate; the moving average gives only the final
  /// T. Blackjax feeds the moving average back instead, so each Adam step
  /// moves T by step^-decay_rate of itself: over n warmup iterations log T
  /// can move at most ~2 learning_rate sqrt(n) (1.0 for 400 iterations at
  /// 0.025), and from one leapfrog step T never reaches the length a latent
  /// GP needs (gp_student_t_100 stayed at 2-3 steps, R-hat 1.29).
  bool adapt_on_iterate = true;
  /// Extension: a diagonal metric from the cross-chain variance (false:
  /// the identity, as Blackjax).
  bool adapt_mass_matrix = true;
  /// Extension: replace the diagonal by nutpie's diagonal + low-rank
  /// metric estimated from every chain's positions and gradients over a
  /// window of `low_rank_interval` iterations, re-estimated after each
  /// window (needs adapt_mass_matrix).
  bool adapt_low_rank = true;
  std::size_t low_rank_interval = 20;
  LowRankOptions low_rank;

  /// An error naming the first option out of range.
  absl::Status validate() const {
    if (!(target_acceptance_rate > 0.0 && target_acceptance_rate < 1.0))
      return absl::InvalidArgumentError("ChEES target_acceptance_rate must be in (0, 1)");
    if (!(decay_rate > 0.0 && decay_rate <= 1.0))
      return absl::InvalidArgumentError("ChEES decay_rate must be in (0, 1]");
    if (!(jitter_amount >= 0.0 && jitter_amount <= 1.0))
      return absl::InvalidArgumentError("ChEES jitter_amount must be in [0, 1]");
    if (max_leapfrog_steps < 1)
      return absl::InvalidArgumentError("ChEES max_leapfrog_steps must be >= 1");
    if (!(initial_step_size > 0.0) || !std::isfinite(initial_step_size))
      return absl::InvalidArgumentError("ChEES initial_step_size must be finite and > 0");
    if (adapt_low_rank && low_rank_interval < 1)
      return absl::InvalidArgumentError("ChEES low_rank_interval must be >= 1");
    if (auto s = low_rank.validate(); adapt_low_rank && !s.ok()) return s;
    if (!(learning_rate > 0.0) || !(adam_beta1 >= 0.0 && adam_beta1 < 1.0) ||
        !(adam_beta2 >= 0.0 && adam_beta2 < 1.0))
      return absl::InvalidArgumentError("ChEES Adam: learning_rate > 0, betas in [0, 1)");
    return absl::OkStatus();
  }
};

/// Adam's state for one scalar parameter.
struct AdamState {
  double m = 0.0, v = 0.0;
  std::int64_t t = 0;
};

/// The ChEES adaptation state (Blackjax's ChEESAdaptationState).
struct CheesState {
  double step_size = 1.0;                ///< the step size of the next transition
  double log_step_size_ma = 0.0;
  double trajectory_length = 1.0;        ///< T of the next transition
  double log_trajectory_length_ma = 0.0;
  double log_trajectory_length = 0.0;    ///< Adam's iterate (adapt_on_iterate)
  DualAveragingState da;
  AdamState adam;
  std::uint64_t random_generator_arg = 0;  ///< every chain's jitter index
  std::int64_t step = 1;
  Vec inverse_mass_diagonal;             ///< the diagonal metric's moving average
  Metric metric;                         ///< the metric of the next transition
  DrawGradientWindow window;             ///< the low-rank estimate's draws (all chains)
  bool has_low_rank = false;             ///< a low-rank estimate has replaced the diagonal
  std::uint64_t metric_version = 0;      ///< +1 whenever `metric` is replaced
  Vec mean_start, mean_proposal, weight_sum;  ///< update's scratch
};

/// ChEES as an (init, update, final) triple.
struct Chees {
  CheesOptions options;

  /// The start: step size options.initial_step_size, T = one step, unit metric.
  CheesState init(std::size_t dim) const {
    CheesState s;
    s.step_size = options.initial_step_size;
    s.trajectory_length = options.initial_step_size;
    s.log_trajectory_length = std::log(options.initial_step_size);
    s.da = dual_averaging().init(options.initial_step_size);
    s.inverse_mass_diagonal = Vec::from_shape({dim});
    s.inverse_mass_diagonal.fill(1.0);
    s.metric = Metric::identity(dim);
    return s;
  }

  /// The dynamic-HMC parameters every chain uses for the next transition.
  dynamic_hmc::Params params(const CheesState& s) const {
    dynamic_hmc::Params p;
    p.step_size = s.step_size;
    p.num_integration_steps = s.trajectory_length / s.step_size;
    p.jitter_amount = options.jitter_amount;
    p.jitter = options.jitter;
    p.inverse_mass_matrix = s.metric;
    return p;
  }

  /// params(s) into `p`, reusing its buffers (the lockstep loop's
  /// allocation-free form): a diagonal metric is assigned in place, any
  /// other copied only when s.metric_version differs from `seen_version`
  /// (which is then updated).
  void params_into(const CheesState& s, dynamic_hmc::Params& p, std::uint64_t& seen_version) const {
    p.step_size = s.step_size;
    p.num_integration_steps = s.trajectory_length / s.step_size;
    p.jitter_amount = options.jitter_amount;
    p.jitter = options.jitter;
    if (seen_version == s.metric_version) return;
    seen_version = s.metric_version;
    if (s.metric.kind() == Metric::Kind::kDiagonal && p.inverse_mass_matrix.kind() == Metric::Kind::kDiagonal &&
        p.inverse_mass_matrix.dim() == s.metric.dim() &&
        p.inverse_mass_matrix.assign_diagonal(s.metric.inverse_mass_diagonal()).ok())
      return;
    p.inverse_mass_matrix = s.metric;
  }

  /// One update from every chain's report (`stats`, in chain order) on the
  /// transition made with params(s), whose jitter key is `jitter_key`.
  CheesState update(CheesState s, std::span<const cross_chain::ChainStatistics> stats,
                    const Key& jitter_key = {}) const {
    const std::size_t n = stats.size();
    // Step size: dual averaging of the harmonic-mean acceptance rate.
    double inv_sum = 0.0;
    std::size_t count = 0;
    for (const auto& st : stats)
      if (!st.is_divergent) {
        inv_sum += 1.0 / st.acceptance_rate;
        ++count;
      }
    double harmonic = count > 0 ? static_cast<double>(count) / inv_sum : 0.0;
    if (!std::isfinite(harmonic)) harmonic = 0.0;
    const DualAveragingState da = dual_averaging().update(s.da, harmonic);
    const double update_weight = std::pow(static_cast<double>(s.step), -options.decay_rate);
    double log_step = std::log(s.step_size);
    if (std::isfinite(da.log_step_size)) {
      s.da = da;
      log_step = da.log_step_size;
    }
    const double new_step_size = std::exp(log_step);
    s.log_step_size_ma = (1.0 - update_weight) * s.log_step_size_ma + update_weight * log_step;

    // Trajectory length: the ChEES gradient, in the metric's scale. The
    // cross-chain means go to the state's scratch (allocation-free).
    const std::size_t dim = s.inverse_mass_diagonal.size();
    ensure_size(s.mean_start, dim);
    ensure_size(s.mean_proposal, dim);
    ensure_size(s.weight_sum, dim);
    Vec& m0 = s.mean_start;
    Vec& m1 = s.mean_proposal;
    m0.fill(0.0);
    m1.fill(0.0);
    s.weight_sum.fill(0.0);
    for (std::size_t c = 0; c < n; ++c) {
      const double w = stats[c].is_divergent ? 0.0 : stats[c].acceptance_rate;
      for (std::size_t i = 0; i < dim; ++i) {
        m0(i) += stats[c].position(i);
        const double x = stats[c].proposal_position(i);
        if (std::isfinite(x)) {  // a failed proposal says nothing
          m1(i) += w * x;
          s.weight_sum(i) += w;
        }
      }
    }
    for (std::size_t i = 0; i < dim; ++i) {
      m0(i) /= static_cast<double>(n);
      m1(i) = s.weight_sum(i) > 0.0 ? m1(i) / s.weight_sum(i) : 0.0;
    }
    const Vec& scale2 = s.metric.inverse_mass_diagonal();
    dynamic_hmc::Params jp;  // the jitter only: no metric
    jp.jitter_amount = options.jitter_amount;
    jp.jitter = options.jitter;
    jp.jitter_key = jitter_key;
    const double u = dynamic_hmc::jitter_value(jp, s.random_generator_arg);
    double num = 0.0, den = 0.0;
    for (std::size_t c = 0; c < n; ++c) {
      if (stats[c].is_divergent) continue;
      double d1 = 0.0, d0 = 0.0, dot = 0.0;
      for (std::size_t i = 0; i < m0.size(); ++i) {
        const double a = stats[c].proposal_position(i) - m1(i);
        const double b = stats[c].position(i) - m0(i);
        d1 += a * a / scale2(i);
        d0 += b * b / scale2(i);
        dot += a * stats[c].proposal_velocity(i) / scale2(i);
      }
      const double g = u * s.trajectory_length * (d1 - d0) * dot;
      if (!std::isfinite(g)) continue;
      num += stats[c].acceptance_rate * g;
      den += stats[c].acceptance_rate + 1e-20;
    }
    const double gradient = den > 0.0 ? num / den : 0.0;
    const double log_t = options.adapt_on_iterate ? s.log_trajectory_length : std::log(s.trajectory_length);
    AdamState adam = s.adam;
    adam.t += 1;
    adam.m = options.adam_beta1 * adam.m + (1.0 - options.adam_beta1) * gradient;
    adam.v = options.adam_beta2 * adam.v + (1.0 - options.adam_beta2) * gradient * gradient;
    const double mhat = adam.m / (1.0 - std::pow(options.adam_beta1, static_cast<double>(adam.t)));
    const double vhat = adam.v / (1.0 - std::pow(options.adam_beta2, static_cast<double>(adam.t)));
    const double step = std::clamp(options.learning_rate * mhat / (std::sqrt(vhat) + options.adam_eps),
                                   -options.log_update_clip, options.log_update_clip);
    double new_log_t = log_t;
    if (std::isfinite(log_t + step)) {
      new_log_t = log_t + step;
      s.adam = adam;
    }
    s.log_trajectory_length_ma =
        (1.0 - update_weight) * s.log_trajectory_length_ma + update_weight * new_log_t;
    s.trajectory_length =
        std::clamp(std::exp(options.adapt_on_iterate ? new_log_t : s.log_trajectory_length_ma),
                   new_step_size, static_cast<double>(options.max_leapfrog_steps) * new_step_size);
    // The iterate stays within the bounds (no wind-up past them).
    s.log_trajectory_length = std::log(s.trajectory_length);
    s.step_size = new_step_size;

    // The metric (extension): cross-chain variance, regularised as Stan's.
    if (options.adapt_mass_matrix && n >= 2) {
      // Population variance about m0 (numpy's), then unbiased.
      const double nn = static_cast<double>(n);
      for (std::size_t i = 0; i < dim; ++i) {
        double ss = 0.0;
        for (std::size_t c = 0; c < n; ++c) {
          const double e = stats[c].position(i) - m0(i);
          ss += e * e;
        }
        double var = ss / (nn - 1.0);
        var = (nn / (nn + 5.0)) * var + 1e-3 * (5.0 / (nn + 5.0));
        if (!std::isfinite(var) || !(var > 0.0)) continue;
        s.inverse_mass_diagonal(i) = std::exp((1.0 - update_weight) * std::log(s.inverse_mass_diagonal(i)) +
                                              update_weight * std::log(var));
      }
      if (options.adapt_low_rank) update_low_rank(s, stats);
      if (!s.has_low_rank && s.metric.kind() == Metric::Kind::kDiagonal) {
        (void)s.metric.assign_diagonal(s.inverse_mass_diagonal);  // invalid: keep the last
        ++s.metric_version;
      } else if (!s.has_low_rank) {
        auto m = Metric::diagonal(s.inverse_mass_diagonal);
        if (m.ok()) s.metric = *std::move(m);
        ++s.metric_version;
      }
    }
    s.random_generator_arg += 1;
    s.step += 1;
    return s;
  }

  /// The sampling parameters: the moving averages' step size and mean
  /// number of steps exp(log T_ma - log eps_ma), and the metric.
  dynamic_hmc::Params final(const CheesState& s) const {
    dynamic_hmc::Params p = params(s);
    p.step_size = std::exp(s.log_step_size_ma);
    p.num_integration_steps =
        std::clamp(std::exp(s.log_trajectory_length_ma - s.log_step_size_ma), 1.0,
                   static_cast<double>(options.max_leapfrog_steps));
    return p;
  }

 private:
  // The shared windowed estimate (cross_chain_low_rank.hpp) from every
  // chain; a window ends every low_rank_interval steps.
  void update_low_rank(CheesState& s, std::span<const cross_chain::ChainStatistics> stats) const {
    const bool window_ends = s.step % static_cast<std::int64_t>(options.low_rank_interval) == 0;
    if (update_cross_chain_low_rank(s.window, s.metric, stats, s.inverse_mass_diagonal.size(),
                                    options.low_rank_interval, window_ends, options.low_rank,
                                    [](const auto&) { return true; })) {
      s.has_low_rank = true;
      ++s.metric_version;
    }
  }

  DualAveraging dual_averaging() const {
    DualAveragingOptions o;
    o.target = options.target_acceptance_rate;
    return DualAveraging{o};
  }
};

}  // namespace nutshell::adaptation

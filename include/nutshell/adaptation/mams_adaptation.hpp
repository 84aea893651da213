// Tuning of MAMS (mcmc/mams.hpp): step size, trajectory length L and a
// diagonal preconditioner, after Blackjax's
// `adjusted_mclmc_find_L_and_step_size` (Robnik, Cohn-Gordon, Seljak 2025).
//
// Phases over a warmup of N transitions (fractions of N, not of the run that
// follows as in Blackjax, so that `sample`'s num_warmup is the whole cost):
//   1. n1 = frac_tune1 N: dual averaging of the step size on the acceptance
//      rate (target 0.9, the paper's), L scaled with the step size so the
//      number of steps per trajectory stays fixed;
//   2. n2 = frac_tune2 N: the same, also accumulating step-size-weighted
//      means of x and x^2. At the end, the step size is dual averaging's
//      average; L <- clamp(tuning_factor sqrt(sum Var x) / L, 0, 2) L and the
//      step size scaled alike; with diagonal preconditioning M^-1 = Var x and
//      L = sqrt(d) (the preconditioned target has unit scales);
//   3. n1: dual averaging again from there, L fixed;
//   4. n3 = frac_tune3 N: the tuned kernel runs and its draws are kept; L <-
//      min(l_factor L n3 / mean_i ESS_i, max_l_growth L), the trajectory length from the
//      chain's autocorrelation (Blackjax's adjusted_mclmc_make_adaptation_L);
//   5. the remaining transitions: dual averaging with L fixed; its average is
//      the final step size.
// The step size is clamped to [1e-5, L / 1.1] throughout, as Blackjax.
//
// As everywhere in adaptation/, the pieces are pure: `init` builds the
// state, `update(state, position, info)` takes one transition's outcome and
// returns the next state, `final(state)` the tuned parameters; `MamsWarmup`
// is the loop that drives a kernel with them.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <optional>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nutshell/adaptation/dual_averaging.hpp"
#include "nutshell/adaptation/kernel_traits.hpp"
#include "nutshell/core/key.hpp"
#include "nutshell/diagnostics/diagnostics.hpp"
#include "nutshell/mcmc/mams.hpp"

namespace nutshell::adaptation {

/// Options of the MAMS warmup; the constants are Blackjax's and the paper's.
struct MamsAdaptationOptions {
  /// Dual averaging's target acceptance rate (the paper's 0.9).
  double target_acceptance_rate = 0.9;
  double frac_tune1 = 0.15;  ///< each of phases 1, 3 (of the warmup)
  double frac_tune2 = 0.3;   ///< phase 2 (moments)
  double frac_tune3 = 0.25;  ///< phase 4 (ESS); below 4 draws it is skipped
  bool diagonal_preconditioning = true;
  double tuning_factor = 1.3;  ///< L from the variances, phase 2
  double l_factor = 0.5;       ///< L from the ESS, phase 4
  /// Phase 4 multiplies L by at most this. Blackjax caps at 2; on
  /// corr_gauss_50, where the preconditioned L = sqrt(d) is far too short for
  /// the correlated directions, 2 left the min bulk ESS at 370 per 4000 draws
  /// (R-hat 1.015) and 5 gave 2470 at 2.3 times the gradients: 2.9x the ESS
  /// per gradient. Elsewhere the cap did not bind.
  double max_l_growth = 5.0;
  /// Where to start; default step size 0.2 sqrt(d), L = sqrt(d), identity.
  std::optional<mams::Params> initial_params{};

  /// OK when the options make a schedule.
  absl::Status validate() const {
    if (!(target_acceptance_rate > 0.0 && target_acceptance_rate < 1.0))
      return absl::InvalidArgumentError("MAMS target acceptance rate must be in (0, 1)");
    for (double f : {frac_tune1, frac_tune2, frac_tune3})
      if (!(f >= 0.0 && f <= 1.0))
        return absl::InvalidArgumentError(absl::StrCat("MAMS tuning fractions must be in [0, 1], got ", f));
    if (2.0 * frac_tune1 + frac_tune2 + frac_tune3 > 1.0)
      return absl::InvalidArgumentError("MAMS tuning: 2 frac_tune1 + frac_tune2 + frac_tune3 must be <= 1");
    if (!(tuning_factor > 0.0) || !(l_factor > 0.0) || !std::isfinite(tuning_factor) ||
        !std::isfinite(l_factor) || !(max_l_growth >= 1.0) || !std::isfinite(max_l_growth))
      return absl::InvalidArgumentError("MAMS tuning_factor and l_factor must be finite and > 0, max_l_growth finite and >= 1");
    return absl::OkStatus();
  }
};

/// Everything the MAMS warmup carries between transitions (a value).
struct MamsAdaptationState {
  mams::Params params;      ///< what the next transition uses
  DualAveragingState da;    ///< the current dual-averaging run
  int phase = 0;            ///< 0..4 as in the file comment; 5: done
  std::size_t step = 0;     ///< transitions done in the current phase
  std::size_t n1 = 0, n2 = 0, n3 = 0, n4 = 0;
  double weight = 0.0;      ///< step-size weights of the moments so far
  Vec mean, mean_sq;        ///< weighted moments of phase 2
  diagnostics::Draws draws; ///< phase 4's draws, [1, n3, d]
};

/// The MAMS warmup's (init, update, final) for fixed options.
struct MamsAdaptation {
  MamsAdaptationOptions options;
  /// Below this many phase-2 transitions the variances are not estimated.
  static constexpr std::size_t kMinMomentDraws = 10;

  /// The state for a warmup of `num_steps` transitions in dimension `dim`,
  /// starting from options.initial_params (or the default), whose metric,
  /// when it has dimension `dim`, is kept.
  absl::StatusOr<MamsAdaptationState> init(std::size_t dim, std::size_t num_steps) const {
    if (auto s = options.validate(); !s.ok()) return s;
    MamsAdaptationState s;
    const double sqrt_d = std::sqrt(static_cast<double>(dim));
    s.params = options.initial_params.value_or(mams::Params{0.2 * sqrt_d, sqrt_d, {}});
    if (s.params.inverse_mass_matrix.dim() != dim)
      s.params.inverse_mass_matrix = Metric::identity(dim);
    s.params.step_size = std::min(s.params.step_size, s.params.L / 1.1);
    const auto n = static_cast<double>(num_steps);
    s.n1 = static_cast<std::size_t>(std::llround(n * options.frac_tune1));
    s.n2 = static_cast<std::size_t>(std::llround(n * options.frac_tune2));
    s.n3 = static_cast<std::size_t>(std::llround(n * options.frac_tune3));
    if (s.n3 < diagnostics::kMinDraws) s.n3 = 0;
    const std::size_t used = 2 * s.n1 + s.n2 + s.n3;
    s.n4 = num_steps > used ? num_steps - used : 0;
    s.mean = xt::zeros<double>({dim});
    s.mean_sq = xt::zeros<double>({dim});
    if (s.n3 > 0) s.draws = diagnostics::Draws::from_shape({1, s.n3, dim});
    s.da = dual_averaging().init(s.params.step_size);
    s.phase = 0;
    return skip_empty(std::move(s));
  }

  /// One transition's outcome (the position it returned and its info).
  /// Errors only at a phase end: a non-finite or zero variance, or no ESS.
  absl::StatusOr<MamsAdaptationState> update(MamsAdaptationState s, const Vec& position,
                                             const mams::Info& info) const {
    const std::size_t dim = position.size();
    if (s.phase <= 4 && s.phase != 3) {  // a dual-averaging phase
      s.da = dual_averaging().update(s.da, info.acceptance_rate);
      const double eps = std::clamp(s.da.step_size(), 1e-5, s.params.L / 1.1);
      s.da.log_step_size = std::log(eps);
      if (s.phase <= 1) s.params.L *= eps / s.params.step_size;  // fixed number of steps
      s.params.step_size = eps;
      if (s.phase == 1 && all_finite(position)) {
        s.weight += eps;
        const double r = eps / s.weight;
        for (std::size_t j = 0; j < dim; ++j) {
          s.mean(j) += r * (position(j) - s.mean(j));
          s.mean_sq(j) += r * (position(j) * position(j) - s.mean_sq(j));
        }
      }
    } else if (s.phase == 3) {
      for (std::size_t j = 0; j < dim; ++j) s.draws(0, s.step, j) = position(j);
    }
    ++s.step;
    return finish_phase(std::move(s));
  }

  /// The tuned parameters (the last dual averaging's averaged step size).
  mams::Params final(const MamsAdaptationState& s) const {
    mams::Params p = s.params;
    if (s.da.step > 0) p.step_size = std::clamp(dual_averaging().final(s.da), 1e-5, p.L / 1.1);
    return p;
  }

 private:
  DualAveraging dual_averaging() const {
    DualAveraging da;
    da.options.target = options.target_acceptance_rate;
    return da;
  }

  std::size_t length(const MamsAdaptationState& s, int phase) const {
    switch (phase) {
      case 0: return s.n1;
      case 1: return s.n2;
      case 2: return s.n1;
      case 3: return s.n3;
      case 4: return s.n4;
      default: return 0;
    }
  }

  /// Moves past phases of length 0 (running their end-of-phase actions
  /// only when they had transitions).
  MamsAdaptationState skip_empty(MamsAdaptationState s) const {
    while (s.phase <= 4 && length(s, s.phase) == 0) {
      ++s.phase;
      s.step = 0;
    }
    return s;
  }

  absl::StatusOr<MamsAdaptationState> finish_phase(MamsAdaptationState s) const {
    if (s.step < length(s, s.phase)) return s;
    const std::size_t dim = s.mean.size();
    if (s.phase == 1 && s.n2 < kMinMomentDraws) {
      s.params.step_size = std::clamp(dual_averaging().final(s.da), 1e-5, s.params.L / 1.1);
      s.da = dual_averaging().init(s.params.step_size);
    } else if (s.phase == 1) {
      s.params.step_size = std::clamp(dual_averaging().final(s.da), 1e-5, s.params.L / 1.1);
      Vec var = s.mean_sq - s.mean * s.mean;
      double total = 0.0;
      for (std::size_t j = 0; j < dim; ++j) {
        if (!(var(j) > 0.0) || !std::isfinite(var(j)))
          return absl::FailedPreconditionError(absl::StrCat(
              "MAMS warmup: the position variance of coordinate ", j, " is ", var(j), " after ",
              s.n2, " transitions (a stuck chain: check the model and the starting point)"));
        total += var(j);
      }
      const double change = std::clamp(options.tuning_factor * std::sqrt(total) / s.params.L, 0.0, 2.0);
      s.params.L *= change;
      s.params.step_size *= change;
      if (options.diagonal_preconditioning) {
        auto metric = Metric::diagonal(var);
        if (!metric.ok()) return metric.status();
        s.params.inverse_mass_matrix = *std::move(metric);
        s.params.L = std::sqrt(static_cast<double>(dim));
      }
      s.params.step_size = std::min(s.params.step_size, s.params.L / 1.1);
      s.da = dual_averaging().init(s.params.step_size);
    } else if (s.phase == 2) {
      s.params.step_size = std::clamp(dual_averaging().final(s.da), 1e-5, s.params.L / 1.1);
    } else if (s.phase == 3) {
      auto ess = diagnostics::ess_basic(s.draws, /*split=*/false);
      if (!ess.ok()) return ess.status();
      double mean_ess = 0.0;
      for (std::size_t j = 0; j < dim; ++j) mean_ess += (*ess)(j) / static_cast<double>(dim);
      if (!(mean_ess > 0.0))
        return absl::FailedPreconditionError("MAMS warmup: no effective sample size (a stuck chain)");
      const double per_draw = mean_ess / static_cast<double>(s.n3);
      s.params.L = std::min(options.l_factor * s.params.L / per_draw, options.max_l_growth * s.params.L);
      s.da = dual_averaging().init(s.params.step_size);
    }
    ++s.phase;
    s.step = 0;
    return skip_empty(std::move(s));
  }
};

/// The result of a MAMS warmup: the last state and the tuned parameters.
template <class State>
struct MamsWarmupResult {
  State state;
  mams::Params parameters;
};

/// Runs `num_steps` transitions of `kernel` (mams::Kernel, or a wrapper with
/// its types) from `state`, tuning with MamsAdaptation; transition i uses
/// key fold_in(key, i). Errors: the kernel's, or the adaptation's.
template <class K, LogDensity F>
absl::StatusOr<MamsWarmupResult<typename KernelTypes<K, F>::State>> mams_warmup(
    const Key& key, const K& kernel, F& logdensity, typename KernelTypes<K, F>::State state,
    std::size_t num_steps, const MamsAdaptationOptions& options = {}) {
  using Types = KernelTypes<K, F>;
  MamsAdaptation adaptation{options};
  auto s = adaptation.init(state.position.size(), num_steps);
  if (!s.ok()) return s.status();
  MamsAdaptationState a = *std::move(s);
  typename Types::State next = state;
  typename Types::Info info{};
  typename Types::Workspace ws{};
  for (std::size_t i = 0; i < num_steps; ++i) {
    auto st = kernel.step_into(fold_in(key, i), state, logdensity, a.params, next, info, ws);
    if (!st.ok()) return st;
    std::swap(state, next);
    auto u = adaptation.update(std::move(a), state.position, info);
    if (!u.ok()) return u.status();
    a = *std::move(u);
  }
  return MamsWarmupResult<typename Types::State>{std::move(state), adaptation.final(a)};
}

}  // namespace nutshell::adaptation

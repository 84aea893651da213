// Automatic tuning of MCLMC's step size, L and diagonal preconditioner
// (Robnik et al. 2023; Blackjax's `mclmc_find_L_and_step_size`, same
// constants and phases).
//
// Phase 1 (frac_tune1 of num_steps) and phase 2 (frac_tune2): run the
// kernel while re-estimating the step size after every step from the energy
// error. For a second-order integrator Var[dE] ~ eps^6, so each step gives an
// estimate eps^6 / xi of the step size at which Var[dE] / d equals
// `desired_energy_var`, with xi = dE^2 / (d * desired_energy_var); these are
// averaged with forgetting factor (n_eff - 1) / (n_eff + 1) and weights
// exp(-(log xi / (6 * trust_in_estimate))^2 / 2) that discount steps far from
// the target. A non-finite step caps the step size at 0.8 times the current
// one and is retried from the old state. Phase 2 also accumulates
// step-size-weighted means of x and x^2: L = sqrt(sum of variances), or, with
// diagonal preconditioning, M^-1 = those variances, L = sqrt(d) and
// round(n2 / 3) more step-size steps in the preconditioned geometry.
// Phase 3 (frac_tune3) runs the tuned kernel and sets
// L = l_factor * step_size * mean_i(n3 / ESS_i): 0.4 times the distance
// travelled per effective sample. ESS is the non-split basic ESS of
// nutshell/diagnostics (Geyer's initial monotone sequence, as Blackjax's
// `effective_sample_size`; it additionally caps ESS at n log10 n as the
// posterior package does, which only matters for antithetic chains). Phase 3
// runs only with at least diagnostics::kMinDraws (4) steps, the fewest that
// ESS accepts (Blackjax: 2).
//
// On targets with heavy-tailed energy errors (rare large dE) the achieved
// energy variance is far from the target and varies a lot with the key: one
// large xi pulls the step size down for ~n_eff steps. On eight_schools_nc,
// over 40 keys, it ranged from 1e-5 to 3e-2 for a 5e-4 target (energy
// variance scales as step^6, so that is a step-size spread of about 2x
// either way). This is Blackjax's behaviour, kept.
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>
#include <optional>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nutshell/diagnostics/diagnostics.hpp"
#include "nutshell/core/key.hpp"
#include "nutshell/mcmc/mclmc.hpp"

namespace nutshell {

/// Options of `mclmc_find_L_and_step_size`; the defaults are Blackjax's.
struct MclmcTuningOptions {
  double frac_tune1 = 0.1;
  double frac_tune2 = 0.1;
  double frac_tune3 = 0.1;
  /// Target energy-error variance per dimension: sets the bias (see mclmc.hpp).
  double desired_energy_var = 5e-4;
  double trust_in_estimate = 1.5;
  int num_effective_samples = 150;
  bool diagonal_preconditioning = true;
  double l_factor = 0.4;
  /// Where to start; default L = sqrt(d), step size 0.25 sqrt(d), identity.
  std::optional<mclmc::Params> initial_params{};
};

/// The tuned parameters, the state after tuning (a warm start for
/// sampling), and the number of kernel steps tuning took.
struct MclmcTuningResult {
  mclmc::State state;
  mclmc::Params params;
  std::size_t num_tuning_steps = 0;
};

namespace detail {

/// The step-size predictor of phases 1-2 over one run of `num` steps. K is
/// mclmc::Kernel or a wrapper with its types (sample's observed kernel).
template <class K, LogDensity F>
class MclmcStepSizeTuner {
 public:
  MclmcStepSizeTuner(const K& kernel, F& logdensity, std::size_t dim,
                     const MclmcTuningOptions& options)
      : kernel_(kernel),
        logdensity_(logdensity),
        dim_(static_cast<double>(dim)),
        options_(options),
        decay_((options.num_effective_samples - 1.0) / (options.num_effective_samples + 1.0)) {}

  /// One kernel step with `params`, then the updated step size in `params`.
  /// Returns whether the step succeeded (on failure `state` is unchanged).
  absl::StatusOr<bool> step(const Key& key, mclmc::State& state, mclmc::Params& params) {
    auto s = kernel_.step_into(key, state, logdensity_, params, next_, info_, ws_);
    if (!s.ok()) return s;
    const bool success = info_.nonans && std::isfinite(info_.energy_change);
    double energy_change = 0.0;
    if (success) {
      std::swap(state, next_);
      energy_change = info_.energy_change;
    } else {
      step_size_max_ = 0.8 * params.step_size;
    }
    const double xi =
        energy_change * energy_change / (dim_ * options_.desired_energy_var) + 1e-8;
    const double w = std::exp(-0.5 * std::pow(std::log(xi) / (6.0 * options_.trust_in_estimate), 2));
    x_average_ = decay_ * x_average_ + w * (xi / std::pow(params.step_size, 6.0));
    time_ = decay_ * time_ + w;
    params.step_size = std::min(std::pow(x_average_ / time_, -1.0 / 6.0), step_size_max_);
    return success;
  }

 private:
  const K& kernel_;
  F& logdensity_;
  double dim_;
  const MclmcTuningOptions& options_;
  double decay_;
  double time_ = 0.0, x_average_ = 0.0;
  double step_size_max_ = std::numeric_limits<double>::infinity();
  mclmc::State next_;
  mclmc::Info info_;
  mclmc::Workspace ws_;
};

inline absl::Status check_tuning_options(const MclmcTuningOptions& o) {
  for (double f : {o.frac_tune1, o.frac_tune2, o.frac_tune3})
    if (!(f >= 0.0 && f <= 1.0))
      return absl::InvalidArgumentError(absl::StrCat("tuning fractions must be in [0, 1], got ", f));
  if (!(o.desired_energy_var > 0.0) || !std::isfinite(o.desired_energy_var))
    return absl::InvalidArgumentError("desired_energy_var must be finite and > 0");
  if (!(o.trust_in_estimate > 0.0) || !std::isfinite(o.trust_in_estimate))
    return absl::InvalidArgumentError("trust_in_estimate must be finite and > 0");
  if (o.num_effective_samples < 1)
    return absl::InvalidArgumentError("num_effective_samples must be >= 1");
  if (!(o.l_factor > 0.0) || !std::isfinite(o.l_factor))
    return absl::InvalidArgumentError("l_factor must be finite and > 0");
  return absl::OkStatus();
}

}  // namespace detail

/// Finds L, the step size and (optionally) a diagonal preconditioner for
/// `kernel` on `logdensity`, starting from `state`, for a run of `num_steps`
/// steps that will follow (the phases take fractions of it; see the file
/// comment). Errors: invalid options or state, a throwing log density, or a
/// phase-2 variance that is not finite and > 0 (every step failed). K is
/// mclmc::Kernel or a wrapper with its types and step_into (sample's).
template <class K, LogDensity F>
absl::StatusOr<MclmcTuningResult> mclmc_find_L_and_step_size(const Key& key,
                                                             const K& kernel,
                                                             F&& logdensity, mclmc::State state,
                                                             std::size_t num_steps,
                                                             const MclmcTuningOptions& options = {}) {
  if (auto s = detail::check_tuning_options(options); !s.ok()) return s;
  const std::size_t dim = state.position.size();
  if (dim < 2)
    return absl::InvalidArgumentError(
        absl::StrCat("MCLMC needs a target with at least 2 dimensions, got ", dim));
  const double sqrt_d = std::sqrt(static_cast<double>(dim));
  mclmc::Params params = options.initial_params.value_or(mclmc::Params{sqrt_d, 0.25 * sqrt_d, {}});
  const auto part = split<2>(key);
  const auto n1 = static_cast<std::size_t>(std::llround(num_steps * options.frac_tune1));
  const auto n2 = static_cast<std::size_t>(std::llround(num_steps * options.frac_tune2));
  const auto n3 = static_cast<std::size_t>(std::llround(num_steps * options.frac_tune3));
  MclmcTuningResult result;

  // Phases 1 and 2.
  {
    detail::MclmcStepSizeTuner<K, std::remove_reference_t<F>> tuner(kernel, logdensity, dim, options);
    double total = 0.0;
    Vec mean = xt::zeros<double>({dim}), mean_sq = xt::zeros<double>({dim});
    for (std::size_t i = 0; i < n1 + n2; ++i) {
      auto ok = tuner.step(split_one(part[0], i), state, params);
      if (!ok.ok()) return ok.status();
      const double w = (i >= n1 && *ok) ? params.step_size : 0.0;
      if (w > 0.0) {
        for (std::size_t j = 0; j < dim; ++j) {
          const double x = state.position(j);
          mean(j) = (total * mean(j) + w * x) / (total + w);
          mean_sq(j) = (total * mean_sq(j) + w * x * x) / (total + w);
        }
        total += w;
      }
    }
    result.num_tuning_steps = n1 + n2;
    if (n2 > 1) {
      Vec variances = mean_sq - mean * mean;
      for (std::size_t j = 0; j < dim; ++j)
        if (!(variances(j) > 0.0) || !std::isfinite(variances(j)))
          return absl::FailedPreconditionError(absl::StrCat(
              "MCLMC tuning: the position variance of coordinate ", j, " is ", variances(j),
              " after ", n2, " steps (stuck or diverging chain; check the initial step size "
              "and the model's support)"));
      params.L = std::sqrt(xt::sum(variances)());
      if (options.diagonal_preconditioning) {
        auto metric = Metric::diagonal(variances);
        if (!metric.ok()) return metric.status();
        params.inverse_mass_matrix = *std::move(metric);
        params.L = sqrt_d;
        const auto steps = static_cast<std::size_t>(std::llround(n2 / 3.0));
        detail::MclmcStepSizeTuner<K, std::remove_reference_t<F>> retuner(kernel, logdensity, dim,
                                                                     options);
        const Key final_key = split_one(part[0], n1 + n2);
        for (std::size_t i = 0; i < steps; ++i) {
          auto ok = retuner.step(split_one(final_key, i), state, params);
          if (!ok.ok()) return ok.status();
        }
        result.num_tuning_steps += steps;
      }
    }
  }

  // Phase 3: L from the effective sample size.
  if (n3 >= diagnostics::kMinDraws) {
    diagnostics::Draws draws = diagnostics::Draws::from_shape({1, n3, dim});
    mclmc::State next = state;
    mclmc::Info info;
    mclmc::Workspace ws;
    for (std::size_t i = 0; i < n3; ++i) {
      auto s = kernel.step_into(split_one(part[1], i), state, logdensity, params, next, info, ws);
      if (!s.ok()) return s;
      std::swap(state, next);
      for (std::size_t j = 0; j < dim; ++j) draws(0, i, j) = state.position(j);
    }
    auto ess = diagnostics::ess_basic(draws, /*split=*/false);
    if (!ess.ok()) return ess.status();
    double mean_ratio = 0.0;
    for (std::size_t j = 0; j < dim; ++j) {
      if (!((*ess)(j) > 0.0))
        return absl::FailedPreconditionError(absl::StrCat(
            "MCLMC tuning: no effective sample size for coordinate ", j, " (constant chain?)"));
      mean_ratio += static_cast<double>(n3) / (*ess)(j);
    }
    params.L = options.l_factor * params.step_size * mean_ratio / static_cast<double>(dim);
    result.num_tuning_steps += n3;
  }
  result.state = std::move(state);
  result.params = std::move(params);
  return result;
}

}  // namespace nutshell

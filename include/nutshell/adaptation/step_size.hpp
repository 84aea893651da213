// Stan's initial step-size heuristic (base_hmc.hpp::init_stepsize).
//
// Dual averaging converges from any start, but a start orders of magnitude
// off wastes the initial buffer, and a huge first step can throw a chain far
// out. So before warmup, and again whenever the metric changes, the step size
// is doubled or halved until the acceptance of a single one-step trial from
// the current point crosses 0.8. As in Stan (and unlike nuts-rs), every trial
// draws a fresh momentum.
//
// The search is generic over a *probe*: `probe(key, step_size)` returns
// log(acceptance) of one trial from a fixed point, i.e. H0 - H1 for one
// leapfrog step (may be > 0; -inf when the trial is not finite). Two probes
// are provided: one leapfrog step with a metric (hmc, nuts: Stan's), and one
// transition of any kernel that reports an acceptance rate (mala).
#pragma once

#include <cmath>
#include <concepts>
#include <cstdint>
#include <limits>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nutshell/core/integrators.hpp"
#include "nutshell/core/key.hpp"
#include "nutshell/core/logdensity.hpp"
#include "nutshell/core/metric.hpp"
#include "nutshell/core/state.hpp"

namespace nutshell::adaptation {

/// A one-trial acceptance probe (see the file comment).
template <class P>
concept StepSizeProbe = requires(P& p, const Key& k, double eps) {
  { p(k, eps) } -> std::convertible_to<absl::StatusOr<double>>;
};

/// Stan's init_stepsize from `step_size`: trial j uses fold_in(key, j). The
/// first trial sets the direction (double if its acceptance is above
/// `threshold`, else halve); the search stops at the first trial on the other
/// side, returning the step size of that trial. Errors: a step size that is
/// not finite and > 0; a search past 1e7 ("posterior is improper", the
/// density does not decay in some direction); one that underflows to 0 (no
/// step is small enough: the density is not continuous there); a probe error.
template <StepSizeProbe Probe>
absl::StatusOr<double> find_reasonable_step_size(const Key& key, double step_size, Probe&& probe,
                                                 double threshold = 0.8) {
  if (!std::isfinite(step_size) || !(step_size > 0.0))
    return absl::InvalidArgumentError(
        absl::StrCat("initial step size must be finite and > 0, got ", step_size));
  const double log_threshold = std::log(threshold);
  std::uint64_t trial = 0;
  auto log_accept = probe(fold_in(key, trial++), step_size);
  if (!log_accept.ok()) return log_accept.status();
  const int direction = *log_accept > log_threshold ? 1 : -1;
  for (;;) {
    log_accept = probe(fold_in(key, trial++), step_size);
    if (!log_accept.ok()) return log_accept.status();
    if (direction == 1 && !(*log_accept > log_threshold)) break;
    if (direction == -1 && !(*log_accept < log_threshold)) break;
    step_size = direction == 1 ? 2.0 * step_size : 0.5 * step_size;
    if (step_size > 1e7)
      return absl::FailedPreconditionError(absl::StrCat(
          "step size search exceeded 1e7 after ", trial,
          " trials: the posterior is improper (the log density does not decrease in some "
          "direction). Please check the model."));
    if (step_size == 0.0)
      return absl::FailedPreconditionError(absl::StrCat(
          "step size search reached 0 after ", trial,
          " trials: no acceptably small step size exists. Perhaps the posterior is not "
          "continuous, or the log density is not finite near the current point?"));
  }
  return step_size;
}

/// Stan's probe: one integrator step from `state` with a fresh momentum drawn
/// from `metric`; returns H0 - H1 (NaN and non-finite points give -inf).
/// Holds references: `state`, `logdensity` and `metric` must outlive it.
template <LogDensity F>
class LeapfrogProbe {
 public:
  LeapfrogProbe(const GradientState& state, F& logdensity, const Metric& metric,
                Integrator integrator = velocity_verlet)
      : state_(state), logdensity_(logdensity), metric_(metric), integrator_(integrator) {
    const std::size_t d = state.position.size();
    z_.position = Vec::from_shape({d});
    z_.momentum = Vec::from_shape({d});
    z_.logdensity_grad = Vec::from_shape({d});
    velocity_ = Vec::from_shape({d});
  }

  /// One trial: H0 - H1 after one step of size `step_size` with the
  /// momentum drawn from `key`. Errors only when the log density throws.
  absl::StatusOr<double> operator()(const Key& key, double step_size) {
    constexpr double kMinusInf = -std::numeric_limits<double>::infinity();
    ops::copy(state_.position, z_.position);
    ops::copy(state_.logdensity_grad, z_.logdensity_grad);
    z_.logdensity = state_.logdensity;
    metric_.sample_momentum(key, z_.momentum);
    const double h0 = -z_.logdensity + metric_.kinetic_energy(z_.momentum);
    auto s = integrate_step(integrator_, metric_, logdensity_, z_, step_size, velocity_);
    if (!s.ok()) return s;
    if (!std::isfinite(z_.logdensity) || !all_finite(z_.position) ||
        !all_finite(z_.logdensity_grad) || !all_finite(z_.momentum))
      return kMinusInf;
    const double delta = h0 - (-z_.logdensity + metric_.kinetic_energy(z_.momentum));
    return std::isnan(delta) ? kMinusInf : delta;
  }

 private:
  const GradientState& state_;
  F& logdensity_;
  const Metric& metric_;
  Integrator integrator_;
  IntegratorState z_;
  Vec velocity_;
};

/// A probe for kernels without a metric (mala): one transition of `kernel`
/// from `state` with the trial step size; returns log(info.acceptance_rate).
/// For mala a transition is the analogue of one leapfrog step. Holds
/// references to everything it is given.
template <class Kernel, class State, class F, class Params, class Info, class Workspace>
class TransitionProbe {
 public:
  TransitionProbe(const Kernel& kernel, const State& state, F& logdensity, Params params)
      : kernel_(kernel), state_(state), logdensity_(logdensity), params_(std::move(params)),
        out_(state) {}

  /// One trial transition; log(acceptance_rate), -inf for 0 or NaN.
  absl::StatusOr<double> operator()(const Key& key, double step_size) {
    params_.step_size = step_size;
    // A driver's observing wrapper (run/sample_detail.hpp) hands over the
    // kernel it wraps: a trial is not a warmup transition to report or keep.
    absl::Status s;
    if constexpr (requires { kernel_.unobserved(); })
      s = kernel_.unobserved().step_into(key, state_, logdensity_, params_, out_, info_, ws_);
    else
      s = kernel_.step_into(key, state_, logdensity_, params_, out_, info_, ws_);
    if (!s.ok()) return s;
    const double a = info_.acceptance_rate;
    return std::isnan(a) || !(a > 0.0) ? -std::numeric_limits<double>::infinity() : std::log(a);
  }

 private:
  const Kernel& kernel_;
  const State& state_;
  F& logdensity_;
  Params params_;
  State out_;
  Info info_{};
  Workspace ws_{};
};

}  // namespace nutshell::adaptation

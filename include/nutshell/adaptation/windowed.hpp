// Windowed adaptation as building blocks: Stan's warmup logic as an (init,
// update, final) triple of pure functions on a value-type state, with no
// kernel in sight.
//
// The adaptation is an observer (as in nuts-rs): after each warmup
// transition it is shown the new position and the transition's acceptance
// statistic, and it answers with the step size and inverse mass matrix to
// use next. Whoever runs the kernel — `window_adaptation`'s run loop, a Gibbs
// sweep adapting one block, a user's own loop — drives it:
//
//   auto wa = WindowAdaptation::create(num_steps, options);
//   auto s = wa->init(find_reasonable_step_size(...), Metric::identity(dim));
//   for i in 0..num_steps-1:
//     transition with (s.step_size, s.inverse_mass_matrix)
//     s = *wa->update(std::move(s), new_position, info.acceptance_rate);
//     if (s.needs_step_size_search)   // a window closed: the metric changed
//       s = wa->restart(std::move(s), find_reasonable_step_size(... s.step_size,
//                                                             s.inverse_mass_matrix));
//   auto [step_size, inverse_mass_matrix] = wa->final(s);
//
// The step-size search needs the log density, so it is the caller's: update
// only says when it is due.
#pragma once

#include <cmath>
#include <cstddef>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nutshell/adaptation/dual_averaging.hpp"
#include "nutshell/adaptation/mass_matrix.hpp"
#include "nutshell/adaptation/schedule.hpp"
#include "nutshell/core/metric.hpp"

namespace nutshell::adaptation {

/// Options of window adaptation (Blackjax's names and Stan's defaults).
struct WindowAdaptationOptions {
  /// Estimate only the variances (true) or the full covariance (false).
  bool is_mass_matrix_diagonal = true;
  /// Where the first step-size search starts.
  double initial_step_size = 1.0;
  /// Dual averaging drives the mean acceptance statistic toward this.
  double target_acceptance_rate = 0.8;
  /// Buffer and first-window sizes (75 / 50 / 25).
  ScheduleOptions schedule;
  /// Adapt the metric at all (false: the identity, or the caller's metric,
  /// is kept and only the step size adapts, over the whole warmup).
  bool adapt_mass_matrix = true;
  /// Keep every warmup step's Info in the result (WindowAdaptationResult::
  /// infos). `sample` turns this off: it costs one Info (with NUTS, a
  /// momentum vector) per warmup step, which at d = 20 000 is most of a
  /// run's memory.
  bool keep_infos = true;
  /// With keep_infos, also keep each Info's vectors (NUTS's and HMC's
  /// starting momentum). Off by default: a kept Info is then a few scalars
  /// copied into storage reserved once, so a warmup step allocates nothing
  /// (a momentum vector per step was one heap allocation per step).
  bool keep_info_vectors = false;
};

/// Everything the adaptation carries between warmup steps. A plain value.
struct WindowAdaptationState {
  std::size_t step = 0;                  ///< warmup transitions seen so far
  DualAveragingState step_size_state;    ///< dual averaging since the last restart
  MassMatrixState mass_matrix_state;     ///< draws of the current window
  double step_size = 1.0;                ///< the step size for the next transition
  Metric inverse_mass_matrix;            ///< the metric for the next transition
  /// The last update closed a window: inverse_mass_matrix is new.
  bool metric_updated = false;
  /// The caller should rerun the step-size search at the current position
  /// with the new metric, from `step_size`, and call `restart`. False when
  /// the window closed on the last warmup step: restarting there would leave
  /// dual averaging with no updates, hence Stan's step size of 1 (Stan issue
  /// #3023); instead that run's average is kept.
  bool needs_step_size_search = false;
};

/// The adapted parameters.
struct AdaptedParameters {
  double step_size = 1.0;
  Metric inverse_mass_matrix;
};

/// The (init, update, restart, final) functions for one warmup length. Holds
/// only configuration and the schedule; all functions are const.
class WindowAdaptation {
 public:
  /// Validates the options and builds the schedule. With
  /// `adapt_mass_matrix` false (kernels without a metric, such as mala) only
  /// the step size adapts, over the whole warmup, as Stan's unit_e samplers.
  static absl::StatusOr<WindowAdaptation> create(std::size_t num_steps,
                                                 const WindowAdaptationOptions& options,
                                                 bool adapt_mass_matrix = true) {
    if (num_steps == 0)
      return absl::InvalidArgumentError("window adaptation: num_steps must be >= 1");
    if (!std::isfinite(options.initial_step_size) || !(options.initial_step_size > 0.0))
      return absl::InvalidArgumentError(absl::StrCat(
          "window adaptation: initial step size must be finite and > 0, got ",
          options.initial_step_size));
    DualAveragingOptions da;
    da.target = options.target_acceptance_rate;
    if (auto s = da.validate(); !s.ok()) return s;
    auto schedule = build_schedule(num_steps, options.schedule);
    if (!schedule.ok()) return schedule.status();
    if (!adapt_mass_matrix) {
      schedule->labels.assign(num_steps, StepLabel::kFast);
      schedule->window_ends.clear();
    }
    std::size_t begin = schedule->init_buffer;
    for (std::size_t end : schedule->window_ends) {
      if (end + 1 - begin < 2)
        return absl::InvalidArgumentError(absl::StrCat(
            "window adaptation: the window ending at step ", end, " has ", end + 1 - begin,
            " draw(s); a covariance needs at least 2 (increase schedule.base_window)"));
      begin = end + 1;
    }
    return WindowAdaptation(std::move(*schedule), DualAveraging{da},
                            MassMatrixAdaptation{options.is_mass_matrix_diagonal});
  }

  /// The warmup schedule in use (no windows when the metric is not adapted).
  const Schedule& schedule() const { return schedule_; }
  /// The step-size triple, for callers that want x_bar or mu directly.
  const DualAveraging& dual_averaging() const { return dual_averaging_; }
  /// The per-window estimator triple.
  const MassMatrixAdaptation& mass_matrix_adaptation() const { return mass_matrix_; }

  /// The state before the first transition: dual averaging starts at
  /// `step_size` (normally the search's result) with mu = log(10 step_size),
  /// and the metric is `inverse_mass_matrix` (normally the identity).
  WindowAdaptationState init(double step_size, Metric inverse_mass_matrix) const {
    WindowAdaptationState s;
    s.mass_matrix_state = mass_matrix_.init(inverse_mass_matrix.dim());
    s.inverse_mass_matrix = std::move(inverse_mass_matrix);
    return restart(std::move(s), step_size);
  }

  /// Observes warmup transition `s.step`, which produced `position` with
  /// acceptance statistic `acceptance`. Errors: called more than num_steps
  /// times, or a window's estimate is unusable (non-finite, not positive
  /// definite).
  absl::StatusOr<WindowAdaptationState> update(WindowAdaptationState s, const Vec& position,
                                               double acceptance) const {
    if (auto st = update_into(s, position, acceptance); !st.ok()) return st;
    return s;
  }

  /// `update` in place: the same result without moving the state (a Metric
  /// and the window's buffers) in and out at every step, which cost ~7% of
  /// a warmup on a cheap model (gauss_10). On error `s` is left part-updated.
  absl::Status update_into(WindowAdaptationState& s, const Vec& position,
                           double acceptance) const {
    const std::size_t i = s.step;
    if (i >= schedule_.num_steps)
      return absl::OutOfRangeError(absl::StrCat("window adaptation: all ", schedule_.num_steps,
                                                " warmup steps were already observed"));
    if (position.size() != s.inverse_mass_matrix.dim())
      return absl::InvalidArgumentError(absl::StrCat(
          "window adaptation: the position has ", position.size(),
          " entries but the inverse mass matrix has dimension ", s.inverse_mass_matrix.dim()));
    s.metric_updated = false;
    s.needs_step_size_search = false;
    s.step_size_state = dual_averaging_.update(s.step_size_state, acceptance);
    s.step_size = s.step_size_state.step_size();
    if (schedule_.is_slow(i)) mass_matrix_.accumulate(s.mass_matrix_state, position);
    if (schedule_.is_window_end(i)) {
      auto metric = mass_matrix_.final(s.mass_matrix_state);
      if (!metric.ok())
        return absl::Status(metric.status().code(),
                            absl::StrCat("window adaptation, window ending at step ", i, ": ",
                                         metric.status().message()));
      s.inverse_mass_matrix = *std::move(metric);
      s.mass_matrix_state = mass_matrix_.init(position.size());
      s.metric_updated = true;
      s.needs_step_size_search = i + 1 < schedule_.num_steps;
    }
    s.step = i + 1;
    return absl::OkStatus();
  }

  /// Restarts dual averaging from `step_size` (> 0) with mu = log(10
  /// step_size), after a window closed and the step size was searched again.
  /// Without a search, pass `s.step_size` (Stan's current step size).
  WindowAdaptationState restart(WindowAdaptationState s, double step_size) const {
    s.step_size_state = dual_averaging_.init(step_size);
    s.step_size = step_size;
    s.needs_step_size_search = false;
    return s;
  }

  /// The parameters to sample with: exp(x_bar) of dual averaging since its
  /// last restart, and the last window's metric.
  AdaptedParameters final(const WindowAdaptationState& s) const {
    return {dual_averaging_.final(s.step_size_state), s.inverse_mass_matrix};
  }

 private:
  WindowAdaptation(Schedule schedule, DualAveraging da, MassMatrixAdaptation mm)
      : schedule_(std::move(schedule)), dual_averaging_(da), mass_matrix_(mm) {}

  Schedule schedule_;
  DualAveraging dual_averaging_;
  MassMatrixAdaptation mass_matrix_;
};

}  // namespace nutshell::adaptation

// The Fisher adaptations as building blocks: nuts-rs's warmup logic as an
// (init, update, restart, final) set of pure functions on a value-type
// state, with no kernel in sight (fisher_adaptation.hpp is the run loop).
//
//   auto fa = FisherAdaptation::create(num_steps, options);
//   auto s = *fa->init(initial_gradient);                 // metric 1 / |g|
//   s = fa->restart(std::move(s), find_reasonable_step_size(...));
//   for i in 0..num_steps-1:
//     transition with (s.step_size, s.inverse_mass_matrix), step size
//       jittered by options.step_size_jitter where the kernel supports it
//     a = fa->uses_symmetric_statistic(s) ? info.symmetric_acceptance_rate
//                                         : info.acceptance_rate;
//     s = *fa->update(std::move(s), x, grad, a, moved);
//     if (s.needs_step_size_search)      // the metric changed for the first time
//       s = fa->restart(std::move(s), find_reasonable_step_size(...));
//   auto [step_size, inverse_mass_matrix] = fa->final(s);
//
// update allocates nothing for the diagonal estimator (the metric is
// rewritten in place); for low rank it allocates only when the metric is
// rebuilt (every `low_rank_update_interval` draws and at switches).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nutshell/adaptation/dual_averaging.hpp"
#include "nutshell/adaptation/fisher_diagonal.hpp"
#include "nutshell/adaptation/fisher_schedule.hpp"
#include "nutshell/adaptation/low_rank.hpp"
#include "nutshell/adaptation/windowed.hpp"
#include "nutshell/core/metric.hpp"

namespace nutshell::adaptation {

/// Options of the Fisher adaptations (nuts-rs's defaults).
struct FisherAdaptationOptions {
  /// Diagonal plus low-rank correction (fisher_low_rank) instead of the
  /// diagonal alone (fisher_diagonal).
  bool low_rank = false;
  /// Where the first step-size search starts.
  double initial_step_size = 1.0;
  /// Dual averaging drives the acceptance statistic toward this.
  double target_acceptance_rate = 0.8;
  /// Late in warmup (FisherSchedule::is_late) dual averaging sees the
  /// symmetric statistic 2 / (1 + exp(|H0 - H|)) instead of Stan's mean
  /// min(1, exp(H0 - H)), as nuts-rs does, where the kernel reports it
  /// (nuts::Info::symmetric_acceptance_rate; other kernels keep the mean).
  /// The mean counts an energy drop as a sure accept; the symmetric one
  /// treats it as the integration error it is.
  bool symmetric_acceptance_late = true;
  /// Every transition, in warmup and after it, integrates with the step
  /// size times a uniform factor in [1 - j, 1 + j], where the kernel's
  /// Params has step_size_jitter (nuts); the tuned Params carry it into
  /// sampling. In [0, 1). nuts-rs's default is 0.1; ours is 0 (Stan's fixed
  /// step) because, measured on the nine benchmark posteriors x 5 seeds,
  /// 0.1 lowered ESS per gradient (gauss_100 by 10%, the median by 3%;
  /// benchmarks/README, "Session 12"). Set it where a fixed step could
  /// resonate with the posterior's periods.
  double step_size_jitter = 0.0;
  /// Early / main / final phases and windows.
  FisherScheduleOptions schedule;
  /// Draws between rebuilds of the diagonal metric (besides switches).
  std::size_t update_interval = 1;
  /// Draws between rebuilds of the low-rank metric (besides switches).
  std::size_t low_rank_update_interval = 20;
  /// Regularisation and eigenvalue cutoff of the low-rank estimate.
  LowRankOptions low_rank_options;
  /// With low_rank: choose between the low-rank metric and the diagonal
  /// one when the final (step-size-only) phase starts (fisher_auto). The
  /// low-rank correction is kept when some kept eigenvalue lambda has
  /// max(lambda, 1 / lambda) >= auto_min_eigenvalue_ratio, i.e. when it
  /// rescales some direction by sqrt(ratio) or more beyond what the diagonal
  /// does; otherwise the diagonal part alone (the diagonal estimate of the
  /// same window) is used, the step size is searched again and dual
  /// averaging restarts for the final phase.
  bool choose_automatically = false;
  /// See choose_automatically; > 1.
  double auto_min_eigenvalue_ratio = 4.0;

  /// OK when every part is valid.
  absl::Status validate() const {
    if (!(target_acceptance_rate > 0.0 && target_acceptance_rate < 1.0))
      return absl::InvalidArgumentError(absl::StrCat(
          "target acceptance rate must be in (0, 1), got ", target_acceptance_rate));
    if (!std::isfinite(initial_step_size) || !(initial_step_size > 0.0))
      return absl::InvalidArgumentError("initial step size must be finite and > 0");
    if (!(step_size_jitter >= 0.0 && step_size_jitter < 1.0))
      return absl::InvalidArgumentError(
          absl::StrCat("step_size_jitter must be in [0, 1), got ", step_size_jitter));
    if (!(auto_min_eigenvalue_ratio > 1.0) || !std::isfinite(auto_min_eigenvalue_ratio))
      return absl::InvalidArgumentError("auto_min_eigenvalue_ratio must be finite and > 1");
    if (update_interval == 0 || low_rank_update_interval == 0)
      return absl::InvalidArgumentError("metric update intervals must be > 0");
    if (auto s = schedule.validate(); !s.ok()) return s;
    return low_rank_options.validate();
  }
};

/// One estimator: running moments (diagonal) and, for low rank, the stored
/// window of draws and gradients.
struct FisherEstimator {
  DrawGradientMoments moments;
  DrawGradientWindow window;  ///< empty unless low rank
  std::size_t count() const { return moments.count(); }
};

/// Everything the adaptation carries between warmup steps. A plain value.
struct FisherAdaptationState {
  std::size_t step = 0;                ///< warmup transitions seen so far
  DualAveragingState step_size_state;  ///< dual averaging since its (only) restart
  FisherEstimator foreground;          ///< the metric is built from this one
  FisherEstimator background;          ///< becomes the foreground at the next switch
  std::size_t main_window = 0;         ///< the current main-phase window
  std::size_t draws_since_update = 0;  ///< since the metric was last rebuilt
  bool metric_changed_once = false;    ///< the one extra step-size search is done
  double step_size = 1.0;              ///< the step size for the next transition
  Metric inverse_mass_matrix;          ///< the metric for the next transition
  Vec scale;                           ///< scratch: the diagonal estimate
  /// The last update rebuilt the metric.
  bool metric_updated = false;
  /// choose_automatically has dropped the low-rank correction (from the
  /// start of the final phase on).
  bool chose_diagonal = false;
  /// The metric changed for the first time: rerun the step-size search at
  /// the current position from `step_size` and call restart (nuts-rs's one
  /// extra search). Never set on the last warmup step.
  bool needs_step_size_search = false;
};

/// The (init, update, restart, final) functions for one warmup length.
class FisherAdaptation {
 public:
  /// Validates the options and builds the schedule.
  static absl::StatusOr<FisherAdaptation> create(std::size_t num_steps,
                                                 FisherAdaptationOptions options) {
    if (num_steps == 0)
      return absl::InvalidArgumentError("fisher adaptation needs at least one warmup step");
    if (auto s = options.validate(); !s.ok()) return s;
    FisherAdaptation a;
    a.schedule_ = FisherSchedule::create(num_steps, options.schedule);
    a.dual_averaging_ = DualAveraging{{options.target_acceptance_rate}};
    a.options_ = std::move(options);
    return a;
  }

  /// The starting state: metric 1 / |g| from the gradient at the initial
  /// point, empty estimators (preallocated: a low-rank window can hold every
  /// draw before the final phase, 2 x 2 x final_start x dim doubles in all),
  /// dual averaging from options.initial_step_size until the
  /// caller's search and restart.
  absl::StatusOr<FisherAdaptationState> init(const Vec& initial_gradient) const {
    const std::size_t d = initial_gradient.size();
    FisherAdaptationState s;
    s.scale = Vec::from_shape({d});
    fisher_initial_diagonal(initial_gradient, s.scale);
    auto m = Metric::diagonal(s.scale);
    if (!m.ok()) return m.status();
    s.inverse_mass_matrix = *std::move(m);
    const std::size_t capacity = options_.low_rank ? schedule_.final_start : 0;
    for (FisherEstimator* e : {&s.foreground, &s.background}) {
      e->moments = draw_gradient_moments_init(d);
      e->window = draw_gradient_window_init(d, capacity);
    }
    s.main_window = options_.schedule.main_window;
    s.step_size_state = dual_averaging_.init(options_.initial_step_size);
    s.step_size = options_.initial_step_size;
    return s;
  }

  /// Restarts dual averaging from `step_size` (mu = log(10 eps)).
  FisherAdaptationState restart(FisherAdaptationState s, double step_size) const {
    s.step_size_state = dual_averaging_.init(step_size);
    s.step_size = step_size;
    s.needs_step_size_search = false;
    return s;
  }

  /// True when the next update's `acceptance` should be the symmetric
  /// statistic rather than the mean (options.symmetric_acceptance_late and
  /// the next draw is late). A kernel that reports only the mean passes
  /// the mean regardless.
  bool uses_symmetric_statistic(const FisherAdaptationState& s) const {
    return options_.symmetric_acceptance_late && schedule_.is_late(s.step, s.main_window);
  }

  /// One warmup step: the new `position`, its `gradient`, the transition's
  /// acceptance statistic (see uses_symmetric_statistic) and whether the
  /// position changed. Errors: a metric estimate that is not usable.
  absl::StatusOr<FisherAdaptationState> update(FisherAdaptationState s, const Vec& position,
                                               const Vec& gradient, double acceptance,
                                               bool moved) const {
    if (auto st = update_into(s, position, gradient, acceptance, moved); !st.ok()) return st;
    return s;
  }

  /// `update` in place: the same result without moving the state (two
  /// estimators, their windows and a Metric) in and out at every step. On
  /// error `s` is left part-updated.
  absl::Status update_into(FisherAdaptationState& s, const Vec& position, const Vec& gradient,
                           double acceptance, bool moved) const {
    s.metric_updated = false;
    s.needs_step_size_search = false;
    const std::size_t draw = s.step++;
    s.step_size_state = dual_averaging_.update(s.step_size_state, acceptance);
    s.step_size = s.step_size_state.step_size();
    if (schedule_.is_final(draw)) {
      if (draw == schedule_.final_start && options_.low_rank && options_.choose_automatically) {
        auto chosen = choose(std::move(s));  // once per warmup
        if (!chosen.ok()) return chosen.status();
        s = *std::move(chosen);
      }
      return absl::OkStatus();
    }
    if (moved) {
      for (FisherEstimator* e : {&s.foreground, &s.background}) {
        draw_gradient_accumulate(e->moments, position, gradient);
        if (options_.low_rank) draw_gradient_window_push(e->window, position, gradient);
      }
    }
    const auto decision = schedule_.decide(draw, s.background.count(), s.main_window);
    s.main_window = decision.main_window;
    if (decision.switch_estimators) {
      std::swap(s.foreground, s.background);
      draw_gradient_reset(s.background.moments);
      s.background.window.count = 0;
    }
    ++s.draws_since_update;
    const std::size_t interval =
        options_.low_rank ? options_.low_rank_update_interval : options_.update_interval;
    if ((decision.switch_estimators || s.draws_since_update >= interval) &&
        s.foreground.count() >= 3) {
      if (auto st = rebuild(s); !st.ok()) return st;
      s.metric_updated = true;
      s.draws_since_update = 0;
      if (!s.metric_changed_once) {
        s.metric_changed_once = true;
        s.needs_step_size_search = s.step < schedule_.num_steps;
      }
    }
    return absl::OkStatus();
  }

  /// The tuned step size exp(x_bar) and the current metric.
  AdaptedParameters final(const FisherAdaptationState& s) const {
    return {dual_averaging_.final(s.step_size_state), s.inverse_mass_matrix};
  }

  /// The schedule in use.
  const FisherSchedule& schedule() const { return schedule_; }
  /// The options in use.
  const FisherAdaptationOptions& options() const { return options_; }

 private:
  FisherAdaptation() = default;

  // fisher_auto at the start of the final phase (see choose_automatically):
  // a correction not worth its O(d k) per leapfrog gives way to the
  // diagonal, and the step size is tuned afresh for it.
  absl::StatusOr<FisherAdaptationState> choose(FisherAdaptationState s) const {
    const Vec& lambda = s.inverse_mass_matrix.low_rank_eigenvalues();
    double largest = 1.0;
    for (double l : lambda) largest = std::max(largest, std::max(l, 1.0 / l));
    if (largest >= options_.auto_min_eigenvalue_ratio && lambda.size() > 0) return s;
    if (s.foreground.count() < 3) return s;
    if (auto st = fisher_diagonal(s.foreground.moments, s.scale); !st.ok()) return st;
    auto m = Metric::diagonal(s.scale);
    if (!m.ok()) return m.status();
    s.inverse_mass_matrix = *std::move(m);
    s.metric_updated = true;
    s.chose_diagonal = true;
    s.needs_step_size_search = s.step < schedule_.num_steps;
    return s;
  }

  absl::Status rebuild(FisherAdaptationState& s) const {
    if (options_.low_rank) {
      auto m = low_rank_metric(s.foreground.window, options_.low_rank_options);
      if (!m.ok()) return m.status();
      s.inverse_mass_matrix = *std::move(m);
      return absl::OkStatus();
    }
    if (auto st = fisher_diagonal(s.foreground.moments, s.scale); !st.ok()) return st;
    return s.inverse_mass_matrix.assign_diagonal(s.scale);
  }

  FisherSchedule schedule_;
  DualAveraging dual_averaging_;
  FisherAdaptationOptions options_;
};

}  // namespace nutshell::adaptation

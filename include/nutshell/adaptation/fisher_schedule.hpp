// nuts-rs's warmup schedule for the Fisher adaptations (adapt_strategy.rs,
// EuclideanAdaptOptions), as a pure decision on counts.
//
// With N tuning draws (draw = 0-based index of the draw just made):
//   - early phase, draw < early_end = floor(0.3 N): the background estimator
//     becomes the foreground whenever it holds `early_window` (10) draws;
//   - main phase: the same with a window that starts at `main_window` (80)
//     and grows by `window_growth` (1.5x) after each switch;
//   - a switch is skipped when it is "late": the new background could not
//     fill its window before the final phase starts (draw + next window >
//     final_start), so the last foreground keeps growing instead;
//   - final phase, draw >= final_start = N - floor(0.15 N): the metric is
//     frozen, only the step size adapts.
// Every kept draw goes into both estimators, so the foreground always covers
// everything since the switch before last: windows overlap, and the metric
// can be rebuilt from the foreground after every draw.
#pragma once

#include <cmath>
#include <cstddef>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace nutshell::adaptation {

/// The schedule's constants (nuts-rs's defaults).
struct FisherScheduleOptions {
  double early_fraction = 0.3;    ///< share of tuning in the early phase
  double final_fraction = 0.15;   ///< share of tuning that adapts the step size only
  std::size_t early_window = 10;  ///< switch frequency in the early phase
  std::size_t main_window = 80;   ///< first window after the early phase
  double window_growth = 1.5;     ///< growth of the main window per switch

  /// OK when the fractions are in [0, 1] with a sum <= 1, the windows > 0
  /// and the growth >= 1.
  absl::Status validate() const {
    if (!(early_fraction >= 0.0 && final_fraction >= 0.0 &&
          early_fraction + final_fraction <= 1.0))
      return absl::InvalidArgumentError(absl::StrCat(
          "Fisher schedule: early and final fractions must be >= 0 with a sum <= 1, got ",
          early_fraction, " and ", final_fraction));
    if (early_window == 0 || main_window == 0)
      return absl::InvalidArgumentError("Fisher schedule: windows must be > 0");
    if (!(window_growth >= 1.0) || !std::isfinite(window_growth))
      return absl::InvalidArgumentError("Fisher schedule: window growth must be finite and >= 1");
    return absl::OkStatus();
  }
};

/// The schedule of one warmup of `num_steps` draws.
struct FisherSchedule {
  FisherScheduleOptions options;
  std::size_t num_steps = 0;
  std::size_t early_end = 0;    ///< first draw of the main phase
  std::size_t final_start = 0;  ///< first draw of the step-size-only phase

  /// The schedule for `num_steps` tuning draws.
  static FisherSchedule create(std::size_t num_steps, const FisherScheduleOptions& o) {
    FisherSchedule s;
    s.options = o;
    s.num_steps = num_steps;
    s.early_end = static_cast<std::size_t>(std::floor(o.early_fraction * num_steps));
    s.final_start =
        num_steps - static_cast<std::size_t>(std::floor(o.final_fraction * num_steps));
    return s;
  }

  /// True when `draw` is in the final, step-size-only phase.
  bool is_final(std::size_t draw) const { return draw >= final_start; }
  /// True when `draw` is in the early phase.
  bool is_early(std::size_t draw) const { return draw < early_end; }

  /// What happens after `draw`, given the background's draw count and the
  /// current main window.
  struct Decision {
    bool switch_estimators = false;  ///< background becomes the foreground
    std::size_t main_window = 0;     ///< the main window from now on
  };

  /// The switch decision after `draw` (see the file comment).
  Decision decide(std::size_t draw, std::size_t background_count,
                  std::size_t main_window) const {
    Decision d{false, main_window};
    if (is_final(draw)) return d;
    const bool early = is_early(draw);
    const std::size_t window = early ? options.early_window : main_window;
    if (background_count < window) return d;
    const std::size_t grown = early ? main_window : grow(main_window);
    const std::size_t next = is_early(draw + 1) ? options.early_window : grown;
    if (draw + next > final_start) return d;  // late: let the foreground grow instead
    d.switch_estimators = true;
    d.main_window = grown;
    return d;
  }

  /// True when `draw` is "late": in the final phase, or where the window
  /// after the next switch (the early window in the early phase, else the
  /// current main window grown once) would reach past the final phase's
  /// start. nuts-rs's dual averaging sees the symmetric acceptance
  /// statistic from here on.
  bool is_late(std::size_t draw, std::size_t main_window) const {
    if (is_final(draw)) return true;
    const std::size_t next = is_early(draw) ? options.early_window : grow(main_window);
    return draw + next > final_start;
  }

  /// The window after `w` grows once.
  std::size_t grow(std::size_t w) const {
    return static_cast<std::size_t>(std::ceil(options.window_growth * static_cast<double>(w)));
  }
};

}  // namespace nutshell::adaptation

// Stan's windowed warmup schedule as a pure function of the warmup length.
//
// Warmup is split into a fast initial buffer (step size only, while the chain
// finds the typical set), a run of slow windows that each end with a new
// inverse mass matrix estimated from that window's draws only, and a fast
// terminal buffer (step size only, for the final metric). Windows start at
// `base_window` steps and double; the last one is stretched to the terminal
// buffer when the window after it would not fit.
//
// Stan's rules are reproduced (windowed_adaptation.hpp), except its bug in the
// short-warmup branch: Stan 2.35 returns before calling restart(), so with
// e.g. 100 warmup steps its metric is never adapted. Here the 15% / 75% / 10%
// split really adapts.
#pragma once

#include <cstddef>
#include <vector>

#include "absl/status/statusor.h"

namespace nutshell::adaptation {

/// What warmup step i does. Slow steps feed the mass-matrix estimator; a
/// window end is a slow step after which the estimate becomes the new metric.
enum class StepLabel : unsigned char { kFast, kSlow, kWindowEnd };

/// The buffer and first-window sizes of Stan's schedule.
struct ScheduleOptions {
  std::size_t init_buffer = 75;
  std::size_t term_buffer = 50;
  std::size_t base_window = 25;
};

/// The schedule for `num_steps` warmup steps. `init_buffer`, `term_buffer`
/// and `base_window` are the sizes actually used, which differ from the
/// requested ones in the short-warmup branch.
struct Schedule {
  std::size_t num_steps = 0;
  std::size_t init_buffer = 0;
  std::size_t term_buffer = 0;
  std::size_t base_window = 0;
  std::vector<StepLabel> labels;          ///< one per warmup step
  std::vector<std::size_t> window_ends;   ///< 0-based steps labelled kWindowEnd

  /// True when step `i` adds its draw to the mass-matrix estimator.
  bool is_slow(std::size_t i) const { return labels[i] != StepLabel::kFast; }
  /// True when the metric is re-estimated after step `i`.
  bool is_window_end(std::size_t i) const { return labels[i] == StepLabel::kWindowEnd; }
};

/// Stan's schedule for `num_steps` warmup steps.
/// - num_steps < 20: every step is fast (no metric adaptation).
/// - init_buffer + base_window + term_buffer > num_steps: the buffers become
///   floor(0.15 N) and floor(0.1 N) and one window takes the rest.
/// - otherwise the first window ends at init_buffer + base_window - 1; at each
///   end the size doubles, and a window is stretched to end at
///   N - term_buffer - 1 when the window after it would reach that point.
/// Errors: num_steps == 0, or base_window == 0 (no window could ever end).
inline absl::StatusOr<Schedule> build_schedule(std::size_t num_steps,
                                               const ScheduleOptions& options = {}) {
  if (num_steps == 0) return absl::InvalidArgumentError("schedule: num_steps must be >= 1");
  if (options.base_window == 0)
    return absl::InvalidArgumentError("schedule: base_window must be >= 1");
  Schedule s;
  s.num_steps = num_steps;
  s.labels.assign(num_steps, StepLabel::kFast);
  if (num_steps < 20) return s;
  const std::size_t n = num_steps;
  if (options.init_buffer + options.base_window + options.term_buffer > n) {
    // Stan truncates 0.15 * N as a double, as does Blackjax's int(0.15 * N).
    s.init_buffer = static_cast<std::size_t>(0.15 * static_cast<double>(n));
    s.term_buffer = static_cast<std::size_t>(0.1 * static_cast<double>(n));
    s.base_window = n - (s.init_buffer + s.term_buffer);
  } else {
    s.init_buffer = options.init_buffer;
    s.term_buffer = options.term_buffer;
    s.base_window = options.base_window;
  }
  const std::size_t last = n - s.term_buffer - 1;  // the last slow step
  std::size_t size = s.base_window;
  std::size_t end = s.init_buffer + size - 1;
  for (std::size_t c = s.init_buffer; c <= last; ++c) {
    if (c != end) {
      s.labels[c] = StepLabel::kSlow;
      continue;
    }
    s.labels[c] = StepLabel::kWindowEnd;
    s.window_ends.push_back(c);
    if (end == last) break;
    // Stan's compute_next_window().
    size *= 2;
    end = c + size;
    if (end != last && end + 2 * size >= n - s.term_buffer) end = last;
  }
  return s;
}

}  // namespace nutshell::adaptation

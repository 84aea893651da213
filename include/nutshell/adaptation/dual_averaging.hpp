// Nesterov dual averaging of the log step size (Hoffman and Gelman 2014,
// section 3.2), in Stan's form.
//
// The iterate x = log(step size) is driven so that the average acceptance
// statistic approaches `target`; x_bar, a t^-kappa weighted average of the
// iterates, is the step size used after warmup. Stan's x_bar averages the
// *new* iterate; Blackjax averages the previous one (a one-step lag). This
// is Stan's.
//
// An (init, update, final) triple of pure functions on a value-type state, as
// in Blackjax, so any loop (a Gibbs sweep, a custom warmup) can drive it.
#pragma once

#include <cmath>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace nutshell::adaptation {

/// Constants of the dual-averaging scheme: Stan's and Blackjax's defaults.
struct DualAveragingOptions {
  double target = 0.8;   ///< target acceptance statistic, in (0, 1)
  double gamma = 0.05;   ///< how strongly x is shrunk toward mu
  double t0 = 10.0;      ///< damps the first iterations
  double kappa = 0.75;   ///< decay of the averaging weights t^-kappa

  /// OK when the constants define a convergent scheme.
  absl::Status validate() const {
    if (!(target > 0.0 && target < 1.0))
      return absl::InvalidArgumentError(
          absl::StrCat("target acceptance rate must be in (0, 1), got ", target));
    if (!(gamma > 0.0) || !std::isfinite(gamma))
      return absl::InvalidArgumentError("dual averaging gamma must be finite and > 0");
    if (!(t0 >= 0.0) || !std::isfinite(t0))
      return absl::InvalidArgumentError("dual averaging t0 must be finite and >= 0");
    if (!(kappa > 0.5 && kappa <= 1.0))
      return absl::InvalidArgumentError("dual averaging kappa must be in (0.5, 1]");
    return absl::OkStatus();
  }
};

/// Everything dual averaging carries between steps. A plain value: copy it to
/// snapshot or fork an adaptation.
struct DualAveragingState {
  double log_step_size = 0.0;      ///< x: the step size to use next is exp(x)
  double log_step_size_avg = 0.0;  ///< x_bar: the step size after warmup is exp(x_bar)
  double error_avg = 0.0;          ///< s_bar: running average of target - acceptance
  double mu = 0.0;                 ///< the point x is shrunk toward, log(10 eps0)
  std::int64_t step = 0;           ///< t: updates since the last (re)start

  /// The step size to use for the next transition.
  double step_size() const { return std::exp(log_step_size); }
};

/// The dual-averaging triple for fixed constants.
struct DualAveraging {
  DualAveragingOptions options;

  /// (Re)starts from step size `step_size` (> 0): mu = log(10 eps0), so the
  /// scheme first explores step sizes larger than eps0, where a too-large
  /// step is quickly corrected. Stan's restart() plus setting mu.
  DualAveragingState init(double step_size) const {
    DualAveragingState s;
    s.log_step_size = std::log(step_size);
    s.mu = std::log(10.0 * step_size);
    return s;
  }

  /// One update with the acceptance statistic of the transition just made.
  /// The statistic is clipped to 1; NaN counts as 0 (a failed transition).
  DualAveragingState update(DualAveragingState s, double acceptance) const {
    if (std::isnan(acceptance)) acceptance = 0.0;
    if (acceptance > 1.0) acceptance = 1.0;
    s.step += 1;
    const double t = static_cast<double>(s.step);
    const double eta = 1.0 / (t + options.t0);
    s.error_avg = (1.0 - eta) * s.error_avg + eta * (options.target - acceptance);
    s.log_step_size = s.mu - s.error_avg * std::sqrt(t) / options.gamma;
    const double w = std::pow(t, -options.kappa);
    s.log_step_size_avg = w * s.log_step_size + (1.0 - w) * s.log_step_size_avg;
    return s;
  }

  /// The step size to keep after adaptation, exp(x_bar). Before any update
  /// x_bar is undefined, so the current step size is returned instead.
  double final(const DualAveragingState& s) const {
    return s.step == 0 ? s.step_size() : std::exp(s.log_step_size_avg);
  }
};

}  // namespace nutshell::adaptation

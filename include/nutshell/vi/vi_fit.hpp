// The stopping rule shared by the Gaussian VI families: iterate a step until
// the windowed ELBO stops moving, or a maximum number of iterations.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nutshell/core/key.hpp"

namespace nutshell::vi {

/// When a VI fit stops. Every `window` iterations the mean ELBO of the last
/// window is compared with that of the window before; the fit has converged
/// when they differ by less than `relative_tolerance * max(1, |mean|)`. The
/// floor of 1 keeps the rule meaningful for normalised targets, whose ELBO
/// tends to 0 (it is log Z minus the KL divergence).
struct FitOptions {
  std::size_t max_iterations = 3000;
  std::size_t window = 100;
  double relative_tolerance = 1e-3;
};

/// What a fit returns: the final variational state, one ELBO estimate per
/// iteration, and whether the stopping rule (rather than the cap) ended it.
template <class State>
struct FitResult {
  State state;
  std::vector<double> elbo_trace;
  bool converged = false;
};

/// Runs `step(key_i, state) -> StatusOr<Transition<State, Info>>` (Info has
/// `.elbo`) with key_i = fold_in(key, i) until the stopping rule fires.
/// Errors: invalid options, or the first failing step (named by iteration).
template <class State, class Step>
absl::StatusOr<FitResult<State>> run_fit(const Key& key, State state, Step&& step,
                                         const FitOptions& options) {
  if (options.window == 0 || options.max_iterations == 0 || !(options.relative_tolerance >= 0.0))
    return absl::InvalidArgumentError(
        "vi fit: window and max_iterations must be > 0 and relative_tolerance >= 0");
  FitResult<State> out;
  out.elbo_trace.reserve(options.max_iterations);
  double previous_window_mean = std::nan("");
  for (std::size_t i = 0; i < options.max_iterations; ++i) {
    auto next = step(fold_in(key, i), std::move(state));
    if (!next.ok())
      return absl::Status(next.status().code(),
                          absl::StrCat("vi fit, iteration ", i, ": ", next.status().message()));
    state = std::move(next->state);
    out.elbo_trace.push_back(next->info.elbo);
    if ((i + 1) % options.window != 0) continue;
    double sum = 0.0;
    for (std::size_t k = i + 1 - options.window; k <= i; ++k) sum += out.elbo_trace[k];
    const double mean = sum / static_cast<double>(options.window);
    if (std::isfinite(previous_window_mean) &&
        std::abs(mean - previous_window_mean) <
            options.relative_tolerance * std::max(1.0, std::abs(mean))) {
      out.converged = true;
      break;
    }
    previous_window_mean = mean;
  }
  out.state = std::move(state);
  return out;
}

}  // namespace nutshell::vi

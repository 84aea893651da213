// Input checks shared by the kernels: one wording for one mistake.
#pragma once

#include <cmath>
#include <cstddef>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "nutshell/core/metric.hpp"
#include "nutshell/core/types.hpp"

namespace nutshell::detail {

inline absl::Status check_step_size(double step_size) {
  if (!std::isfinite(step_size) || !(step_size > 0.0))
    return absl::InvalidArgumentError(
        absl::StrCat("step size must be finite and > 0, got ", step_size));
  return absl::OkStatus();
}

inline absl::Status check_dimension(const char* what, std::size_t got, std::size_t want) {
  if (got != want)
    return absl::InvalidArgumentError(absl::StrCat("dimension mismatch: ", what, " has ", got,
                                                   " entries but the position has ", want));
  return absl::OkStatus();
}

template <class State>
absl::Status check_gradient_state(const State& state) {
  if (state.position.size() == 0) return absl::InvalidArgumentError("state position is empty");
  return check_dimension("the state's gradient", state.logdensity_grad.size(),
                         state.position.size());
}

inline absl::Status check_metric(const Metric& metric, std::size_t dim) {
  return check_dimension("the inverse mass matrix", metric.dim(), dim);
}

}  // namespace nutshell::detail

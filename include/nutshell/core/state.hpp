// State types shared by several kernels.
#pragma once

#include <cmath>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nutshell/core/logdensity.hpp"
#include "nutshell/core/types.hpp"
#include "nutshell/core/vector_ops.hpp"

namespace nutshell {

/// The state of a gradient-based kernel (hmc, nuts, mala, barker): the
/// position with its log density and gradient cached, so a step evaluates
/// the density only at new points.
struct GradientState {
  Vec position;
  double logdensity = 0.0;
  Vec logdensity_grad;
};

/// The state of a gradient-free kernel (rmh, irmh, slice): position and its
/// log density.
struct PositionState {
  Vec position;
  double logdensity = 0.0;
};

/// Copies `src` into `dst` reusing dst's buffers.
inline void assign(GradientState& dst, const GradientState& src) {
  ops::copy(src.position, dst.position);
  dst.logdensity = src.logdensity;
  ops::copy(src.logdensity_grad, dst.logdensity_grad);
}

inline void assign(PositionState& dst, const PositionState& src) {
  ops::copy(src.position, dst.position);
  dst.logdensity = src.logdensity;
}

namespace detail {
inline absl::Status check_initial_position(const Vec& position) {
  if (position.size() == 0) return absl::InvalidArgumentError("initial position is empty");
  for (std::size_t i = 0; i < position.size(); ++i)
    if (!std::isfinite(position(i)))
      return absl::InvalidArgumentError(
          absl::StrCat("initial position is not finite: entry ", i, " is ", position(i)));
  return absl::OkStatus();
}
}  // namespace detail

/// Evaluates the log density and gradient at a starting point. Fails with a
/// clear error if the position, the log density or the gradient is not finite,
/// or if the log density throws.
template <LogDensity F>
absl::StatusOr<GradientState> init_gradient_state(const Vec& position, F& logdensity) {
  if (auto s = detail::check_initial_position(position); !s.ok()) return s;
  GradientState state{position, 0.0, Vec::from_shape({position.size()})};
  state.logdensity_grad.fill(0.0);
  auto lp = evaluate(logdensity, state.position, state.logdensity_grad);
  if (!lp.ok()) return lp.status();
  if (!std::isfinite(*lp))
    return absl::InvalidArgumentError(
        absl::StrCat("log density at the initial position is not finite (", *lp, ")"));
  if (!all_finite(state.logdensity_grad))
    return absl::InvalidArgumentError("log density gradient at the initial position is not finite");
  state.logdensity = *lp;
  return state;
}

/// Value-only counterpart of `init_gradient_state`.
template <LogDensityValue F>
absl::StatusOr<PositionState> init_position_state(const Vec& position, F& logdensity) {
  if (auto s = detail::check_initial_position(position); !s.ok()) return s;
  auto lp = evaluate(logdensity, position);
  if (!lp.ok()) return lp.status();
  if (!std::isfinite(*lp))
    return absl::InvalidArgumentError(
        absl::StrCat("log density at the initial position is not finite (", *lp, ")"));
  return PositionState{position, *lp};
}

}  // namespace nutshell

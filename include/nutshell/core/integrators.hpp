// Symplectic integrators as palindromic coefficient lists (as in Blackjax).
//
// Coefficients alternate momentum ("b") and position ("a") updates, starting
// and ending with a momentum update: velocity Verlet is {1/2, 1, 1/2}. A new
// integrator is one line. Each position update costs one gradient evaluation.
#pragma once

#include <array>
#include <cstddef>

#include "absl/status/status.h"
#include "nutshell/core/logdensity.hpp"
#include "nutshell/core/metric.hpp"
#include "nutshell/core/types.hpp"
#include "nutshell/core/vector_ops.hpp"

namespace nutshell {

/// A point in phase space with its cached log density and gradient.
struct IntegratorState {
  Vec position;
  Vec momentum;
  double logdensity = 0.0;
  Vec logdensity_grad;
};

/// A palindromic splitting integrator given by its coefficients.
struct Integrator {
  const char* name;
  std::size_t num_coefficients;  // odd: b a b ... a b
  std::array<double, 11> coefficients;
  /// Gradient evaluations per step (one per position update).
  constexpr std::size_t gradient_evaluations() const { return num_coefficients / 2; }
};

/// Velocity Verlet (leapfrog): second order, one gradient per step.
inline constexpr Integrator velocity_verlet{"velocity_verlet", 3, {0.5, 1.0, 0.5}};

namespace detail {
inline constexpr double kMcLachlanB1 = 0.1931833275037836;
// Yoshida (1990) triple jump: leapfrog steps of w1 h, w0 h, w1 h with
// w1 = 1 / (2 - 2^(1/3)), w0 = 1 - 2 w1. Fourth order needs the negative
// middle step: a splitting scheme with all-positive coefficients is at most
// second order (Sheng 1989, Suzuki 1991), which is why Blackjax's positive
// "yoshida" coefficients measure as second order.
inline constexpr double kCubeRoot2 = 1.2599210498948731647672106;
inline constexpr double kYoshidaW1 = 1.0 / (2.0 - kCubeRoot2);
inline constexpr double kYoshidaW0 = 1.0 - 2.0 * kYoshidaW1;
}  // namespace detail

/// McLachlan's two-stage minimum-error integrator (McLachlan 1995, as used by
/// Blackjax): second order, two gradients per step, smaller error constant.
inline constexpr Integrator mclachlan{
    "mclachlan",
    5,
    {detail::kMcLachlanB1, 0.5, 1.0 - 2.0 * detail::kMcLachlanB1, 0.5, detail::kMcLachlanB1}};

/// Yoshida's fourth-order integrator (three leapfrogs composed): three
/// gradients per step.
inline constexpr Integrator yoshida{
    "yoshida",
    7,
    {0.5 * detail::kYoshidaW1, detail::kYoshidaW1, 0.5 * (detail::kYoshidaW1 + detail::kYoshidaW0),
     detail::kYoshidaW0, 0.5 * (detail::kYoshidaW1 + detail::kYoshidaW0), detail::kYoshidaW1,
     0.5 * detail::kYoshidaW1}};

/// Advances `z` in place by one step of size `step_size` (negative integrates
/// backwards). `velocity` is scratch sized like the position. Returns an error
/// only if the log density throws; a non-finite value is left in `z` for the
/// caller to reject. Allocates nothing.
template <LogDensity F>
absl::Status integrate_step(const Integrator& integrator, const Metric& metric, F& logdensity,
                            IntegratorState& z, double step_size, Vec& velocity) {
  for (std::size_t k = 0; k < integrator.num_coefficients; ++k) {
    const double c = integrator.coefficients[k] * step_size;
    if (k % 2 == 0) {
      ops::axpy(c, z.logdensity_grad, z.momentum);
    } else {
      metric.velocity(z.momentum, velocity);
      ops::axpy(c, velocity, z.position);
      auto lp = evaluate(logdensity, z.position, z.logdensity_grad);
      if (!lp.ok()) return lp.status();
      z.logdensity = *lp;
    }
  }
  return absl::OkStatus();
}

}  // namespace nutshell

// One NUTS leaf: an integrator step fused with what the tree needs from it
// (the end velocity M^-1 p and the Hamiltonian), in as few passes over the
// vectors as the metric allows.
//
// Diagonal metrics (identity, diagonal): each momentum update is fused with
// the position update that follows it (one pass), and the last momentum
// update with the velocity and the kinetic energy (one pass), so a leapfrog
// leaf costs two passes plus the gradient; before, the integrator's three
// passes plus a separate M^-1 p and energy pass. The velocity is recomputed
// from p exactly, so the trajectory is bitwise that of `integrate_step`.
//
// Other metrics (dense, low rank): M^-1 p is a matrix-vector product, and
// the drift and the tree both need it, which cost two products per step.
// Since M^-1 is linear, the velocity is carried along instead: a momentum
// update p += c g is mirrored by v += c (M^-1 g), and M^-1 g is computed
// once per gradient. One product per gradient, the same as a hand-written
// leapfrog, and the end velocity is free. (In exact arithmetic the
// trajectory is the leapfrog's; in floating point v drifts from M^-1 p by
// rounding only.)
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>

#include "absl/status/status.h"
#include "nutshell/core/integrators.hpp"
#include "nutshell/core/logdensity.hpp"
#include "nutshell/core/metric.hpp"
#include "nutshell/core/types.hpp"
#include "nutshell/core/vector_ops.hpp"

namespace nutshell::nuts::detail {

/// What a trajectory end carries between steps besides its IntegratorState:
/// for a non-diagonal metric, v = M^-1 p and M^-1 grad (unused otherwise).
struct CarriedVelocity {
  Vec velocity;
  Vec grad_velocity;
};

/// Starts carrying at `z` (non-diagonal metrics only; diagonal: nothing).
/// `velocity` and `grad_velocity`, when given, are M^-1 p and M^-1 grad at
/// `z` already known (from the momentum draw, from the previous
/// transition); each one not given costs a product.
inline void start_carrying(const Metric& metric, const IntegratorState& z, CarriedVelocity& c,
                           const Vec* velocity = nullptr, const Vec* grad_velocity = nullptr) {
  if (metric.is_diagonal()) return;
  ensure_size(c.velocity, z.momentum.size());
  ensure_size(c.grad_velocity, z.momentum.size());
  if (velocity)
    ops::copy(*velocity, c.velocity);
  else
    metric.velocity(z.momentum, c.velocity);
  if (grad_velocity)
    ops::copy(*grad_velocity, c.grad_velocity);
  else
    metric.velocity(z.logdensity_grad, c.grad_velocity);
}

/// The Hamiltonian -logdensity + kinetic, +inf when it or the log density
/// is not finite (Stan maps NaN to +inf, which makes the point divergent).
inline double leaf_energy(double logdensity, double kinetic) {
  const double h = -logdensity + kinetic;
  return std::isfinite(logdensity) && !std::isnan(h) ? h
                                                     : std::numeric_limits<double>::infinity();
}

// The fused passes. Pointer parameters are __restrict so that the blocked
// loops vectorise (see NUTSHELL_SIMD_FOR).

// p += cb g; x += ca (d .* p).
inline void kick_drift(std::size_t n, double* __restrict p, double* __restrict x,
                       const double* __restrict g, const double* __restrict d, double cb,
                       double ca) {
  NUTSHELL_SIMD_FOR(n, p[i] += cb * g[i]; const double v = d[i] * p[i]; x[i] += ca * v;);
}

// p += cb g; v += cb mg; x += ca v (velocity carried, mg = M^-1 g).
inline void kick_drift_carried(std::size_t n, double* __restrict p, double* __restrict v,
                               double* __restrict x, const double* __restrict g,
                               const double* __restrict mg, double cb, double ca) {
  NUTSHELL_SIMD_FOR(n, p[i] += cb * g[i]; v[i] += cb * mg[i]; x[i] += ca * v[i];);
}

/// Tree work fused into a leaf's last pass, which already has the leaf's
/// momentum and velocity in registers (TreeBuilder::build_subtree): an even
/// leaf's momentum is copied to its node (`first`), an odd leaf is merged
/// with the single leaf before it (`second`: the summed momentum rho, the far
/// momentum, and Stan's criterion for two leaves, whose three checks
/// coincide: both end velocities have a positive dot product with rho).
/// Saves a pass over the vectors per leaf.
struct LeafMerge {
  enum class Kind { kNone, kFirst, kSecond };
  Kind kind = Kind::kNone;
  double* p_copy = nullptr;         ///< kFirst: receives p
  double* rho = nullptr;            ///< kSecond: receives p_near + p
  double* p_end = nullptr;          ///< kSecond: receives p
  const double* p_near = nullptr;   ///< kSecond: the earlier leaf's momentum
  const double* v_near = nullptr;   ///< kSecond: the earlier leaf's velocity
  double near = 0.0, far = 0.0;     ///< kSecond: v_near . rho, v . rho
};

// The last pass of a leaf: p += cb g; then the velocity (d .* p for a
// diagonal metric, or the carried v += cb mg), written to vo, with p . v
// returned; plus the tree work of LeafMerge. One function for the six
// variants keeps their arithmetic identical, so a leaf is bitwise the same
// with or without tree work.
template <bool kCarried, LeafMerge::Kind kKind>
inline double last_pass(std::size_t n, double* __restrict p, double* __restrict v,
                        double* __restrict vo, const double* __restrict g,
                        const double* __restrict m, double cb, double* __restrict out_a,
                        double* __restrict out_b, const double* __restrict p_near,
                        const double* __restrict v_near, double& near_dot, double& far_dot) {
  double acc[ops::kLanes] = {}, near[ops::kLanes] = {}, far[ops::kLanes] = {};
  NUTSHELL_SIMD_FOR(
      n, p[i] += cb * g[i]; double vel; if constexpr (kCarried) {
        v[i] += cb * m[i];
        vel = v[i];
      } else { vel = m[i] * p[i]; } vo[i] = vel;
      acc[lane] += p[i] * vel; if constexpr (kKind == LeafMerge::Kind::kFirst) { out_a[i] = p[i]; }
      if constexpr (kKind == LeafMerge::Kind::kSecond) {
        const double r = p_near[i] + p[i];
        out_a[i] = r;
        out_b[i] = p[i];
        near[lane] += v_near[i] * r;
        far[lane] += vel * r;
      });
  if constexpr (kKind == LeafMerge::Kind::kSecond) {
    near_dot = ops::sum_lanes(near);
    far_dot = ops::sum_lanes(far);
  }
  return ops::sum_lanes(acc);
}

// The variant for `f` (none when null).
template <bool kCarried>
inline double last_pass(std::size_t n, double* p, double* v, double* vo, const double* g,
                        const double* m, double cb, LeafMerge* f) {
  double unused = 0.0;
  if (f == nullptr || f->kind == LeafMerge::Kind::kNone)
    return last_pass<kCarried, LeafMerge::Kind::kNone>(n, p, v, vo, g, m, cb, nullptr, nullptr,
                                                       nullptr, nullptr, unused, unused);
  if (f->kind == LeafMerge::Kind::kFirst)
    return last_pass<kCarried, LeafMerge::Kind::kFirst>(n, p, v, vo, g, m, cb, f->p_copy, nullptr,
                                                        nullptr, nullptr, unused, unused);
  return last_pass<kCarried, LeafMerge::Kind::kSecond>(n, p, v, vo, g, m, cb, f->rho, f->p_end,
                                                       f->p_near, f->v_near, f->near, f->far);
}

/// Advances `z` by one step of `integrator` (size `eps`), writes the new
/// velocity M^-1 p to `v_out` (dim doubles) and returns the new Hamiltonian
/// in `h`. `c` must have been started at the trajectory's first point (see
/// start_carrying) and only ever advanced by this function. `merge`, when
/// given, is tree work done in the last pass. Errors only if the log
/// density throws.
template <LogDensity F>
absl::Status leaf_step(const Integrator& integrator, const Metric& metric, F& logdensity,
                       IntegratorState& z, CarriedVelocity& c, double eps, double* v_out,
                       double& h, LeafMerge* merge = nullptr) {
  const std::size_t n = z.position.size();
  const std::size_t last = integrator.num_coefficients - 1;
  const bool diagonal = metric.is_diagonal();
  const double* d = diagonal ? metric.inverse_mass_diagonal().data() : nullptr;
  // Coefficients b a b a ... b: each (b, a) pair is one pass.
  for (std::size_t k = 0; k < last; k += 2) {
    const double cb = integrator.coefficients[k] * eps;
    const double ca = integrator.coefficients[k + 1] * eps;
    if (diagonal)
      kick_drift(n, z.momentum.data(), z.position.data(), z.logdensity_grad.data(), d, cb, ca);
    else
      kick_drift_carried(n, z.momentum.data(), c.velocity.data(), z.position.data(),
                         z.logdensity_grad.data(), c.grad_velocity.data(), cb, ca);
    auto lp = evaluate(logdensity, z.position, z.logdensity_grad);
    if (!lp.ok()) return lp.status();
    z.logdensity = *lp;
    if (!diagonal) metric.velocity(z.logdensity_grad, c.grad_velocity);
  }
  const double cb = integrator.coefficients[last] * eps;
  const double twice_kinetic =
      diagonal ? last_pass<false>(n, z.momentum.data(), nullptr, v_out, z.logdensity_grad.data(),
                                  d, cb, merge)
               : last_pass<true>(n, z.momentum.data(), c.velocity.data(), v_out,
                                 z.logdensity_grad.data(), c.grad_velocity.data(), cb, merge);
  h = leaf_energy(z.logdensity, 0.5 * twice_kinetic);
  return absl::OkStatus();
}

}  // namespace nutshell::nuts::detail

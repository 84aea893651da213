// Inner-kernel tuning from the particles (Blackjax's `inner_kernel_tuning`,
// with the parameter-update rule made concrete).
//
// Before each mutation the kernel's parameters are recomputed from the
// weighted particles of the previous stage:
//   * inverse_mass_matrix = diag(weighted variance of each coordinate),
//     floored at `min_variance` (kernels whose Params have a Metric);
//   * step_size = scale * d^(-dim_exponent), d the dimension (d^-1/4 is the
//     optimal HMC scaling, d^-1/3 MALA's), for kernels whose Params have a
//     step size;
//   * scale starts at `initial_scale` and after each stage is multiplied by
//     exp(adapt_rate * (mean acceptance - target_acceptance)), clamped to
//     [1e-3, 1e3]: a Robbins-Monro-like step on log(scale) that keeps the
//     acceptance near the target as the tempered target narrows (rate 1,
//     the default, is Blackjax's exp(acceptance - target) rule; HMC's
//     acceptance falls off a cliff past the stability limit, so larger
//     rates oscillate).
// The diagonal variance is a poor metric for a multimodal population (its
// spread is the distance between modes); the acceptance feedback then
// shrinks the step size within a few stages.
// Kernels without a step size (rmh with a user proposal, slice...) keep the
// parameters they were given.
#pragma once

#include <algorithm>
#include <cmath>

#include "nutshell/core/metric.hpp"
#include "nutshell/smc/particles.hpp"

namespace nutshell::smc {

/// The tuning rule's constants (see the file comment).
struct InnerKernelTuning {
  bool enabled = true;
  double initial_scale = 1.0;
  double dim_exponent = 0.25;
  double target_acceptance = 0.65;
  bool adapt_scale = true;
  double adapt_rate = 1.0;
  double min_variance = 1e-12;
};

/// `base` with the step size and inverse mass matrix set by the rule from
/// the weighted particles and the current scale.
template <class Params>
Params tune_params(const Params& base, const Particles& particles, double scale,
                   const InnerKernelTuning& tuning) {
  Params out = base;
  if (!tuning.enabled) return out;
  const double d = static_cast<double>(particles.dim());
  if constexpr (requires { out.step_size = 1.0; })
    out.step_size = scale * std::pow(d, -tuning.dim_exponent);
  if constexpr (requires { out.inverse_mass_matrix = Metric::identity(1); }) {
    Vec var = weighted_variance(particles);
    for (double& v : var) v = std::isfinite(v) ? std::max(v, tuning.min_variance) : 1.0;
    auto metric = Metric::diagonal(var);
    if (metric.ok()) out.inverse_mass_matrix = *std::move(metric);
  }
  return out;
}

/// The scale for the next stage given this stage's mean acceptance rate.
inline double next_scale(double scale, double mean_acceptance, const InnerKernelTuning& tuning) {
  if (!tuning.enabled || !tuning.adapt_scale || !std::isfinite(mean_acceptance)) return scale;
  return std::clamp(
      scale * std::exp(tuning.adapt_rate * (mean_acceptance - tuning.target_acceptance)), 1e-3, 1e3);
}

}  // namespace nutshell::smc

// nutpie's diagonal mass-matrix estimate from draws AND gradients
// (Seyboldt, Carlson, Carpenter 2026; nuts-rs transform/adapt/diagonal.rs).
//
// Among affine maps x = mu + sigma .* y, the one that makes the transformed
// posterior closest to a standard normal in Fisher divergence has, per
// coordinate, sigma_i^2 = sqrt(Var(x_i) / Var(g_i)) with g = grad log p.
// For a Gaussian Var(g_i) = 1 / Var(x_i), so this is exactly the variance;
// elsewhere the gradients carry information the draws alone do not (a
// window of strongly autocorrelated draws still sees the local curvature),
// which is what lets warmup settle on a metric in fewer draws than Stan's
// variance estimate. Unlike Stan there is no shrinkage toward 1e-3: the
// estimate is clamped to [1e-20, 1e20] only.
//
// Pieces (pure, over a value-type state, the updates allocation-free):
//   auto m = draw_gradient_moments_init(dim);
//   draw_gradient_accumulate(m, x, g);            // per kept draw
//   fisher_diagonal(m, sigma2);                   // writes sigma^2
//   fisher_initial_diagonal(g0, sigma2);          // 1 / |g| at the start
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "nutshell/adaptation/welford.hpp"
#include "nutshell/core/types.hpp"

namespace nutshell::adaptation {

/// nuts-rs's clamp of every diagonal entry.
inline constexpr double kFisherMinScale = 1e-20;
inline constexpr double kFisherMaxScale = 1e20;

/// Running Welford moments of the draws and of their scores (gradients of
/// the log density), over the same draws.
struct DrawGradientMoments {
  DiagonalWelfordState draws;
  DiagonalWelfordState gradients;
  std::size_t count() const { return draws.count; }
};

/// Empty moments for `dim`-dimensional draws.
inline DrawGradientMoments draw_gradient_moments_init(std::size_t dim) {
  return {welford_init_diagonal(dim), welford_init_diagonal(dim)};
}

/// Adds one draw `x` with its score `g`; allocates nothing.
inline void draw_gradient_accumulate(DrawGradientMoments& m, const Vec& x, const Vec& g) {
  welford_accumulate(m.draws, x);
  welford_accumulate(m.gradients, g);
}

/// Forgets every draw, keeping the buffers (allocation-free).
inline void draw_gradient_reset(DrawGradientMoments& m) {
  m.draws.count = 0;
  m.gradients.count = 0;
  std::fill(m.draws.mean.begin(), m.draws.mean.end(), 0.0);
  std::fill(m.draws.m2.begin(), m.draws.m2.end(), 0.0);
  std::fill(m.gradients.mean.begin(), m.gradients.mean.end(), 0.0);
  std::fill(m.gradients.m2.begin(), m.gradients.m2.end(), 0.0);
}

/// The clamp to [1e-20, 1e20]; NaN (0/0: a coordinate where neither the
/// draws nor the gradients varied) becomes `fallback`.
inline double clamp_scale(double s, double fallback) {
  if (std::isnan(s)) return fallback;
  return std::clamp(s, kFisherMinScale, kFisherMaxScale);
}

/// sigma_i^2 = sqrt(Var(x_i) / Var(g_i)), clamped, written into `sigma2`
/// (sized dim). A coordinate where neither varied keeps its value in
/// `sigma2`. Error when fewer than 2 draws were added.
inline absl::Status fisher_diagonal(const DrawGradientMoments& m, Vec& sigma2) {
  if (m.count() < 2)
    return absl::FailedPreconditionError(absl::StrCat(
        "the Fisher diagonal estimate needs at least 2 draws, got ", m.count()));
  for (std::size_t i = 0; i < sigma2.size(); ++i)
    sigma2(i) = clamp_scale(std::sqrt(m.draws.m2(i) / m.gradients.m2(i)), sigma2(i));
  return absl::OkStatus();
}

/// nuts-rs's starting metric: sigma_i^2 = 1 / |g_i| at the initial point,
/// clamped (a zero gradient gives the upper clamp, a NaN gives 1).
inline void fisher_initial_diagonal(const Vec& gradient, Vec& sigma2) {
  for (std::size_t i = 0; i < gradient.size(); ++i)
    sigma2(i) = clamp_scale(1.0 / std::abs(gradient(i)), 1.0);
}

}  // namespace nutshell::adaptation

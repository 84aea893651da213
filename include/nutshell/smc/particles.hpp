// A weighted particle population, the value SMC moves from stage to stage,
// and the weight arithmetic every SMC step shares (log-sum-exp, effective
// sample size, weighted moments).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>

#include "nutshell/core/types.hpp"

namespace nutshell::smc {

/// N particles in d dimensions: `positions` is [N, d] (row i is particle i)
/// and `log_weights` holds N normalised log weights (logsumexp = 0). A value
/// type: copy it freely.
struct Particles {
  Mat positions;
  Vec log_weights;

  std::size_t size() const { return positions.shape(0); }
  std::size_t dim() const { return positions.shape(1); }
};

/// log(sum(exp(x))), stable; NaN entries count as -inf (weight zero). Returns
/// -inf when every entry is -inf or NaN.
inline double logsumexp(std::span<const double> x) {
  double m = -std::numeric_limits<double>::infinity();
  for (double v : x)
    if (v > m) m = v;  // NaN compares false
  if (!std::isfinite(m)) return m;
  double s = 0.0;
  for (double v : x)
    if (v > -std::numeric_limits<double>::infinity()) s += std::exp(v - m);
  return m + std::log(s);
}

/// log of the effective sample size (sum w)^2 / sum w^2 of unnormalised log
/// weights (Blackjax's `log_ess`); -inf when no weight is positive.
inline double log_ess(std::span<const double> log_weights) {
  const double l1 = logsumexp(log_weights);
  if (!std::isfinite(l1)) return -std::numeric_limits<double>::infinity();
  double m = -std::numeric_limits<double>::infinity();
  for (double v : log_weights)
    if (v > m) m = v;
  double s2 = 0.0;
  for (double v : log_weights)
    if (v > -std::numeric_limits<double>::infinity()) s2 += std::exp(2.0 * (v - m));
  return 2.0 * l1 - (2.0 * m + std::log(s2));
}

/// Effective sample size of unnormalised log weights, in [1, N] (0 when
/// every weight is zero).
inline double ess(std::span<const double> log_weights) { return std::exp(log_ess(log_weights)); }

/// Normalised weights exp(log_weights - logsumexp) into `out` (sized N).
inline void normalized_weights(std::span<const double> log_weights, std::span<double> out) {
  const double l = logsumexp(log_weights);
  for (std::size_t i = 0; i < log_weights.size(); ++i) {
    const double v = log_weights[i];
    out[i] = (std::isfinite(l) && v > -std::numeric_limits<double>::infinity())
                 ? std::exp(v - l)
                 : 0.0;
  }
}

inline std::span<const double> span_of(const Vec& v) { return {v.data(), v.size()}; }

/// Weighted mean of the particles (per coordinate).
inline Vec weighted_mean(const Particles& p) {
  const std::size_t n = p.size(), d = p.dim();
  Vec w = Vec::from_shape({n});
  normalized_weights(span_of(p.log_weights), {w.data(), n});
  Vec mean = xt::zeros<double>({d});
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < d; ++j) mean(j) += w(i) * p.positions(i, j);
  return mean;
}

/// Weighted variance of the particles (per coordinate), the plain
/// sum w_i (x_i - mean)^2 (no bias correction: the weights are normalised).
inline Vec weighted_variance(const Particles& p) {
  const std::size_t n = p.size(), d = p.dim();
  Vec w = Vec::from_shape({n});
  normalized_weights(span_of(p.log_weights), {w.data(), n});
  const Vec mean = weighted_mean(p);
  Vec var = xt::zeros<double>({d});
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < d; ++j) {
      const double c = p.positions(i, j) - mean(j);
      var(j) += w(i) * c * c;
    }
  return var;
}

/// The ESS of a population's weights.
inline double ess(const Particles& p) { return ess(span_of(p.log_weights)); }

}  // namespace nutshell::smc

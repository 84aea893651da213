// Random draws from the continuous families, as pure functions of a key.
//
// Every `*_rng(key, ...)` returns the same value for the same key and
// arguments (nutshell's keys are counter-based; see core/key.hpp). Several
// draws come from `split`/`fold_in` of a key, never from reusing one.
// Invalid parameters throw std::domain_error, as the log densities do.
#pragma once

#include <cmath>
#include <limits>
#include <numbers>
#include <span>

#include "nutshell/core/key.hpp"
#include "nutshell/distributions/checks.hpp"

namespace nutshell::distributions {

namespace detail {
/// log of a Gamma(shape, 1) draw, accurate for tiny shapes: a direct draw
/// underflows to 0 when shape << 1 (U^(1/shape)), its logarithm does not.
inline double log_gamma_draw(Stream& s, double shape) {
  if (shape >= 1.0) return std::log(s.gamma(shape));
  // Gamma(a) = Gamma(a + 1) * U^(1/a), in logs.
  return std::log(s.gamma(shape + 1.0)) + std::log(s.uniform()) / shape;
}
}  // namespace detail

/// A draw from Normal(mu, sigma); sigma > 0.
inline double normal_rng(const Key& key, double mu, double sigma) {
  detail::check_finite("normal_rng", "location", mu);
  detail::check_positive_finite("normal_rng", "scale", sigma);
  return mu + sigma * normal(key);
}

/// A draw from Student-t(nu, mu, sigma): a normal over the root of an
/// independent chi-square(nu) / nu.
inline double student_t_rng(const Key& key, double nu, double mu, double sigma) {
  detail::check_positive_finite("student_t_rng", "degrees of freedom", nu);
  detail::check_finite("student_t_rng", "location", mu);
  detail::check_positive_finite("student_t_rng", "scale", sigma);
  Stream s(key);
  const double z = s.normal();
  // z / sqrt(chi2 / nu) with chi2 = 2 Gamma(nu / 2), in logs: for small nu
  // the gamma draw underflows although the ratio is representable.
  const double log_chi2_over_nu = std::log(2.0 / nu) + detail::log_gamma_draw(s, 0.5 * nu);
  return mu + sigma * z * std::exp(-0.5 * log_chi2_over_nu);
}

/// A draw from Cauchy(mu, sigma), by inversion of its CDF.
inline double cauchy_rng(const Key& key, double mu, double sigma) {
  detail::check_finite("cauchy_rng", "location", mu);
  detail::check_positive_finite("cauchy_rng", "scale", sigma);
  return mu + sigma * std::tan(std::numbers::pi * (uniform(key) - 0.5));
}

/// A draw from Exponential(rate beta).
inline double exponential_rng(const Key& key, double beta) {
  detail::check_positive_finite("exponential_rng", "rate", beta);
  return exponential(key) / beta;
}

/// A draw from Gamma(shape alpha, rate beta).
inline double gamma_rng(const Key& key, double alpha, double beta) {
  detail::check_positive_finite("gamma_rng", "shape", alpha);
  detail::check_positive_finite("gamma_rng", "rate", beta);
  Stream s(key);
  return std::exp(detail::log_gamma_draw(s, alpha)) / beta;
}

/// A draw from InvGamma(shape alpha, scale beta): beta over a Gamma(alpha, 1).
inline double inv_gamma_rng(const Key& key, double alpha, double beta) {
  detail::check_positive_finite("inv_gamma_rng", "shape", alpha);
  detail::check_positive_finite("inv_gamma_rng", "scale", beta);
  Stream s(key);
  return beta * std::exp(-detail::log_gamma_draw(s, alpha));
}

/// A draw from LogNormal(mu, sigma).
inline double lognormal_rng(const Key& key, double mu, double sigma) {
  detail::check_finite("lognormal_rng", "location", mu);
  detail::check_positive_finite("lognormal_rng", "scale", sigma);
  return std::exp(mu + sigma * normal(key));
}

/// A draw from Beta(a, b), as X / (X + Y) for independent gammas computed in
/// logs, so that small shapes (a, b << 1) do not give 0 / 0.
inline double beta_rng(const Key& key, double a, double b) {
  detail::check_positive_finite("beta_rng", "first shape", a);
  detail::check_positive_finite("beta_rng", "second shape", b);
  Stream s(key);
  const double lx = detail::log_gamma_draw(s, a);
  const double ly = detail::log_gamma_draw(s, b);
  // x / (x + y) = 1 / (1 + exp(ly - lx)), stable in both tails.
  return 1.0 / (1.0 + std::exp(ly - lx));
}

/// A draw from Uniform(lo, hi); lo < hi, both finite.
inline double uniform_rng(const Key& key, double lo, double hi) {
  detail::check_finite("uniform_rng", "lower bound", lo);
  detail::check_finite("uniform_rng", "upper bound", hi);
  if (!(lo < hi)) detail::throw_domain("uniform_rng", "lower bound", lo, "must be below the upper bound");
  return lo + (hi - lo) * uniform(key);
}

}  // namespace nutshell::distributions

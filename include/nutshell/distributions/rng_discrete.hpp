// Random draws from the discrete families, as pure functions of a key.
//
// Poisson and binomial are exact at every parameter value: inversion (a
// sequential search of the CDF) where the mean is small, and Hörmann's
// transformed rejection with squeeze (PTRS for the Poisson, BTRS for the
// binomial; W. Hörmann 1993, "The transformed rejection method for
// generating Poisson random variables" and "The generation of binomial
// random variates") where it is large, so the cost stays O(1) in the mean.
// log Gamma is ad::lgamma (lgamma_r): std::lgamma writes the global
// `signgam`, a data race when chains draw on several threads.
#pragma once

#include <cmath>
#include <cstdint>
#include <span>

#include "nutshell/ad/scalar_double.hpp"
#include "nutshell/core/key.hpp"
#include "nutshell/distributions/checks.hpp"
#include "nutshell/distributions/rng_continuous.hpp"

namespace nutshell::distributions {

namespace detail {

/// Poisson mean from which PTRS is used; its constants are fitted for
/// lambda >= 10 and inversion costs O(lambda).
inline constexpr double kPoissonRejectionFrom = 10.0;
/// n * min(p, 1 - p) from which BTRS is used (valid for n p >= 10).
inline constexpr double kBinomialRejectionFrom = 10.0;

inline std::int64_t poisson_inversion(Stream& s, double lambda) {
  for (;;) {
    double u = s.uniform();
    double p = std::exp(-lambda);
    std::int64_t k = 0;
    // Subtracting the pmf from u (rather than accumulating the CDF) keeps
    // the comparison exact far into the tail; with lambda < 10 the tail past
    // 200 has probability < 1e-150, and a draw that gets there by rounding
    // is redrawn rather than returned wrong.
    while (u > p && k < 200) {
      u -= p;
      ++k;
      p *= lambda / static_cast<double>(k);
    }
    if (k < 200) return k;
  }
}

inline std::int64_t poisson_ptrs(Stream& s, double lambda) {
  const double slam = std::sqrt(lambda), loglam = std::log(lambda);
  const double b = 0.931 + 2.53 * slam;
  const double a = -0.059 + 0.02483 * b;
  const double inv_alpha = 1.1239 + 1.1328 / (b - 3.4);
  const double vr = 0.9277 - 3.6224 / (b - 2.0);
  for (;;) {
    const double u = s.uniform() - 0.5, v = s.uniform();
    const double us = 0.5 - std::abs(u);
    const double k = std::floor((2.0 * a / us + b) * u + lambda + 0.43);
    if (us >= 0.07 && v <= vr) return static_cast<std::int64_t>(k);
    if (k < 0.0 || (us < 0.013 && v > us)) continue;
    if (std::log(v) + std::log(inv_alpha) - std::log(a / (us * us) + b) <=
        -lambda + k * loglam - ad::lgamma(k + 1.0))
      return static_cast<std::int64_t>(k);
  }
}

// Binomial by inversion for p <= 0.5 and small n p: the pmf ratio
// f(k) / f(k - 1) = (n - k + 1) / k * p / q walks the CDF.
inline std::int64_t binomial_inversion(Stream& s, std::int64_t n, double p) {
  const double q = 1.0 - p, ratio = p / q;
  const double f0 = std::exp(static_cast<double>(n) * std::log1p(-p));
  for (;;) {
    double u = s.uniform(), f = f0;
    std::int64_t k = 0;
    while (u > f && k < n) {
      u -= f;
      ++k;
      f *= static_cast<double>(n - k + 1) / static_cast<double>(k) * ratio;
    }
    if (u <= f) return k;  // otherwise rounding ran past n: redraw
  }
}

inline std::int64_t binomial_btrs(Stream& s, std::int64_t n, double p) {
  const double nd = static_cast<double>(n), q = 1.0 - p;
  const double spq = std::sqrt(nd * p * q);
  const double b = 1.15 + 2.53 * spq;
  const double a = -0.0873 + 0.0248 * b + 0.01 * p;
  const double c = nd * p + 0.5;
  const double vr = 0.92 - 4.2 / b;
  const double alpha = (2.83 + 5.1 / b) * spq;
  const double lpq = std::log(p / q);
  const double m = std::floor((nd + 1.0) * p);
  const double h = ad::lgamma(m + 1.0) + ad::lgamma(nd - m + 1.0);
  for (;;) {
    const double u = s.uniform() - 0.5;
    double v = s.uniform();
    const double us = 0.5 - std::abs(u);
    const double k = std::floor((2.0 * a / us + b) * u + c);
    if (k < 0.0 || k > nd) continue;
    if (us >= 0.07 && v <= vr) return static_cast<std::int64_t>(k);
    v = std::log(v * alpha / (a / (us * us) + b));
    if (v <= h - ad::lgamma(k + 1.0) - ad::lgamma(nd - k + 1.0) + (k - m) * lpq)
      return static_cast<std::int64_t>(k);
  }
}

inline std::int64_t poisson_draw(Stream& s, double lambda) {
  if (lambda == 0.0) return 0;
  return lambda < kPoissonRejectionFrom ? poisson_inversion(s, lambda) : poisson_ptrs(s, lambda);
}

}  // namespace detail

/// A draw from Poisson(lambda); lambda >= 0 and below 2^62.
inline std::int64_t poisson_rng(const Key& key, double lambda) {
  detail::check_nonnegative_finite("poisson_rng", "rate", lambda);
  if (lambda >= 0x1.0p62) detail::throw_domain("poisson_rng", "rate", lambda, "must be below 2^62");
  Stream s(key);
  return detail::poisson_draw(s, lambda);
}

/// A draw from Poisson(exp(alpha)).
inline std::int64_t poisson_log_rng(const Key& key, double alpha) {
  detail::check_not_nan("poisson_log_rng", "log rate", alpha);
  return poisson_rng(key, std::exp(alpha));
}

/// A draw from Binomial(n, theta); n >= 0, theta in [0, 1].
inline std::int64_t binomial_rng(const Key& key, std::int64_t n, double theta) {
  detail::check_nonnegative_count("binomial_rng", "number of trials", n);
  detail::check_probability("binomial_rng", "probability", theta);
  if (n == 0 || theta == 0.0) return 0;
  if (theta == 1.0) return n;
  // Draw the count of the rarer outcome: both algorithms want p <= 1/2.
  const bool flip = theta > 0.5;
  const double p = flip ? 1.0 - theta : theta;
  Stream s(key);
  const std::int64_t k = static_cast<double>(n) * p < detail::kBinomialRejectionFrom
                             ? detail::binomial_inversion(s, n, p)
                             : detail::binomial_btrs(s, n, p);
  return flip ? n - k : k;
}

/// A draw from Binomial(n, inv_logit(alpha)).
inline std::int64_t binomial_logit_rng(const Key& key, std::int64_t n, double alpha) {
  detail::check_not_nan("binomial_logit_rng", "log odds", alpha);
  return binomial_rng(key, n, 1.0 / (1.0 + std::exp(-alpha)));
}

/// A draw from Bernoulli(theta): 1 with probability theta, else 0.
inline int bernoulli_rng(const Key& key, double theta) {
  detail::check_probability("bernoulli_rng", "probability", theta);
  return uniform(key) < theta ? 1 : 0;
}

/// A draw from Bernoulli(inv_logit(alpha)).
inline int bernoulli_logit_rng(const Key& key, double alpha) {
  detail::check_not_nan("bernoulli_logit_rng", "log odds", alpha);
  return bernoulli_rng(key, 1.0 / (1.0 + std::exp(-alpha)));
}

/// A 0-based index k drawn with probability theta[k]; theta is a simplex
/// (non-negative, summing to 1 within 1e-8).
inline std::int64_t categorical_rng(const Key& key, std::span<const double> theta) {
  detail::check_simplex("categorical_rng", theta);
  return categorical(key, theta);
}

/// A 0-based index k drawn with probability softmax(beta)[k].
inline std::int64_t categorical_logit_rng(const Key& key, std::span<const double> beta) {
  if (beta.empty()) detail::throw_size("categorical_logit_rng", "needs at least one category");
  for (double b : beta) detail::check_not_nan("categorical_logit_rng", "log odds", b);
  return categorical_logits(key, beta);
}

/// A draw from NegBinomial2(mu, phi) (mean mu, variance mu + mu^2 / phi), as
/// the Poisson of a Gamma(phi, phi / mu) rate.
inline std::int64_t neg_binomial_2_rng(const Key& key, double mu, double phi) {
  detail::check_positive_finite("neg_binomial_2_rng", "location", mu);
  detail::check_positive_finite("neg_binomial_2_rng", "precision", phi);
  auto [k_gamma, k_poisson] = split<2>(key);
  Stream sg(k_gamma);
  const double lambda = std::exp(std::log(mu / phi) + detail::log_gamma_draw(sg, phi));
  if (!(lambda < 0x1.0p62))
    detail::throw_domain("neg_binomial_2_rng", "location", mu, "gives a rate above 2^62");
  Stream sp(k_poisson);
  return detail::poisson_draw(sp, lambda);
}

/// A draw from NegBinomial2(exp(eta), phi).
inline std::int64_t neg_binomial_2_log_rng(const Key& key, double eta, double phi) {
  detail::check_finite("neg_binomial_2_log_rng", "log location", eta);
  return neg_binomial_2_rng(key, std::exp(eta), phi);
}

}  // namespace nutshell::distributions

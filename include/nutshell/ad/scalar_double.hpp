// The scalar math of nutshell::ad for plain doubles: the same names as the
// var and dual overloads, so generic model code calls `ad::exp(x)` for any
// scalar type. Also the special functions the derivatives need (digamma,
// trigamma, tetragamma), written here because the standard library lacks them.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <span>

namespace nutshell::ad {

inline double exp(double x) { return std::exp(x); }
inline double log(double x) { return std::log(x); }
inline double log1p(double x) { return std::log1p(x); }
inline double expm1(double x) { return std::expm1(x); }
inline double pow(double a, double b) { return std::pow(a, b); }
inline double sqrt(double x) { return std::sqrt(x); }
inline double cbrt(double x) { return std::cbrt(x); }
/// x * x.
inline double square(double x) { return x * x; }
/// 1 / x.
inline double inv(double x) { return 1.0 / x; }
inline double erf(double x) { return std::erf(x); }
inline double erfc(double x) { return std::erfc(x); }
inline double fabs(double x) { return std::fabs(x); }
inline double abs(double x) { return std::fabs(x); }
inline double fmin(double a, double b) { return std::fmin(a, b); }
inline double fmax(double a, double b) { return std::fmax(a, b); }
inline double sin(double x) { return std::sin(x); }
inline double cos(double x) { return std::cos(x); }
inline double tan(double x) { return std::tan(x); }
inline double tanh(double x) { return std::tanh(x); }
inline double atan(double x) { return std::atan(x); }
inline double sinh(double x) { return std::sinh(x); }
inline double cosh(double x) { return std::cosh(x); }

/// log Gamma(x); lgamma_r, because std::lgamma writes the global `signgam`
/// (a data race when chains run on several threads).
inline double lgamma(double x) {
  int sign;
  return ::lgamma_r(x, &sign);
}

namespace detail {
// Shift x up by the recurrence until x >= 10, where the asymptotic series
// (Bernoulli numbers) is accurate to double precision.
constexpr double kAsymptoticFrom = 10.0;
}  // namespace detail

/// The digamma function psi(x) = d/dx log Gamma(x); NaN at 0 and the negative
/// integers.
inline double digamma(double x) {
  if (std::isnan(x) || x == -std::numeric_limits<double>::infinity())
    return std::numeric_limits<double>::quiet_NaN();
  if (x <= 0.0) {
    if (x == std::floor(x)) return std::numeric_limits<double>::quiet_NaN();
    // Reflection: psi(x) = psi(1 - x) - pi / tan(pi x).
    return digamma(1.0 - x) - std::numbers::pi / std::tan(std::numbers::pi * x);
  }
  double acc = 0.0;
  while (x < detail::kAsymptoticFrom) {
    acc -= 1.0 / x;
    x += 1.0;
  }
  const double r = 1.0 / (x * x);
  const double series =
      r * (1.0 / 12 - r * (1.0 / 120 - r * (1.0 / 252 - r * (1.0 / 240 - r * (1.0 / 132 - r * (691.0 / 32760 - r / 12))))));
  return acc + std::log(x) - 0.5 / x - series;
}

/// The trigamma function psi'(x).
inline double trigamma(double x) {
  if (std::isnan(x)) return x;
  if (x <= 0.0) {
    if (x == std::floor(x)) return std::numeric_limits<double>::quiet_NaN();
    // Reflection: psi'(1 - x) + psi'(x) = pi^2 / sin^2(pi x).
    const double s = std::sin(std::numbers::pi * x);
    return std::numbers::pi * std::numbers::pi / (s * s) - trigamma(1.0 - x);
  }
  double acc = 0.0;
  while (x < detail::kAsymptoticFrom) {
    acc += 1.0 / (x * x);
    x += 1.0;
  }
  const double r = 1.0 / (x * x);
  const double series =
      1.0 / 6 - r * (1.0 / 30 - r * (1.0 / 42 - r * (1.0 / 30 - r * (5.0 / 66 - r * (691.0 / 2730 - r * 7.0 / 6)))));
  return acc + 1.0 / x + 0.5 * r + series * r / x;
}

/// The tetragamma function psi''(x), for the derivative of trigamma (x > 0,
/// or non-integer x < 0 through the recurrence).
inline double tetragamma(double x) {
  if (std::isnan(x)) return x;
  if (x <= 0.0 && x == std::floor(x)) return std::numeric_limits<double>::quiet_NaN();
  double acc = 0.0;
  while (x < detail::kAsymptoticFrom) {
    acc -= 2.0 / (x * x * x);
    x += 1.0;
  }
  const double r = 1.0 / (x * x);
  // psi''(x) ~ -1/x^2 - 1/x^3 - sum_k B_2k (2k+1) / x^(2k+2)
  const double series =
      0.5 - r * (1.0 / 6 - r * (1.0 / 6 - r * (3.0 / 10 - r * (5.0 / 6 - r * 691.0 / 210))));
  return acc - r - r / x - series * r * r;
}

namespace detail {
// lgamma(z) - Stirling's approximation, for z >= 10 (error < 1e-15).
inline double lgamma_stirling_diff(double z) {
  const double r = 1.0 / (z * z);
  return (1.0 / 12 - r * (1.0 / 360 - r * (1.0 / 1260 - r * (1.0 / 1680 - r / 1188)))) / z;
}
}  // namespace detail

/// log Beta(a, b). When an argument is large, lgamma(b) - lgamma(a + b) is
/// formed from Stirling's series so the cancellation between two huge lgammas
/// does not eat the result (as Stan's lbeta does).
inline double lbeta(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return a + b;
  const double x = std::min(a, b), y = std::max(a, b);
  if (!(x > 0.0) || y < 10.0 || std::isinf(y)) return lgamma(a) + lgamma(b) - lgamma(a + b);
  const double xy = x + y, lr = std::log1p(-x / xy);  // log(y / (x + y))
  const double tail = (y - 0.5) * lr + detail::lgamma_stirling_diff(y) -
                      detail::lgamma_stirling_diff(xy);
  if (x < 10.0) return lgamma(x) + tail - x * std::log(xy) + x;
  return 0.5 * std::log(2.0 * std::numbers::pi) + (x - 0.5) * std::log(x / xy) - 0.5 * std::log(xy) +
         detail::lgamma_stirling_diff(x) + tail;
}

/// The standard normal cumulative distribution function.
inline double Phi(double x) { return 0.5 * std::erfc(-x * std::numbers::sqrt2 / 2.0); }

/// log(1 - x).
inline double log1m(double x) { return std::log1p(-x); }

/// log(1 + exp(x)) without overflow.
inline double log1p_exp(double x) {
  return x > 0.0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}

/// log(1 - exp(x)) for x <= 0, accurate on both sides of -log 2.
inline double log1m_exp(double x) {
  if (x > 0.0) return std::numeric_limits<double>::quiet_NaN();
  return x > -std::numbers::ln2 ? std::log(-std::expm1(x)) : std::log1p(-std::exp(x));
}

/// log(exp(a) + exp(b)) without overflow.
inline double log_sum_exp(double a, double b) {
  if (a == -std::numeric_limits<double>::infinity()) return b;
  if (b == -std::numeric_limits<double>::infinity()) return a;
  const double m = std::max(a, b);
  if (std::isinf(m)) return m;
  return m + std::log1p(std::exp(-std::fabs(a - b)));
}

/// log(sum exp(x_i)); -inf for an empty span.
inline double log_sum_exp(std::span<const double> x) {
  double m = -std::numeric_limits<double>::infinity();
  for (double v : x) m = std::max(m, v);
  if (!std::isfinite(m)) return m;
  double s = 0.0;
  for (double v : x) s += std::exp(v - m);
  return m + std::log(s);
}

/// log(exp(a) - exp(b)) for a >= b.
inline double log_diff_exp(double a, double b) {
  if (b == -std::numeric_limits<double>::infinity()) return a;
  return a + log1m_exp(b - a);
}

/// The logistic function 1 / (1 + exp(-x)), without overflow.
inline double inv_logit(double x) {
  if (x >= 0.0) return 1.0 / (1.0 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1.0 + e);
}

/// log(x / (1 - x)).
inline double logit(double x) { return std::log(x / (1.0 - x)); }

/// log(inv_logit(x)).
inline double log_inv_logit(double x) { return -log1p_exp(-x); }

/// log(1 - inv_logit(x)).
inline double log1m_inv_logit(double x) { return -log1p_exp(x); }

}  // namespace nutshell::ad

// The scalar math of nutshell::ad for `var`: each call records one node whose
// partials are computed with the value (so the reverse sweep is a multiply-add
// per operand). Partials are chosen to stay finite wherever the value is
// finite and the function differentiable (e.g. pow at base 0).
#pragma once

#include <cmath>
#include <numbers>
#include <span>

#include "nutshell/ad/scalar_double.hpp"
#include "nutshell/ad/var.hpp"

namespace nutshell::ad {

inline var exp(const var& x) {
  const double e = std::exp(x.val());
  return make_unary(e, x, e);
}
inline var log(const var& x) { return make_unary(std::log(x.val()), x, 1.0 / x.val()); }
inline var log1p(const var& x) { return make_unary(std::log1p(x.val()), x, 1.0 / (1.0 + x.val())); }
inline var expm1(const var& x) {
  const double e = std::expm1(x.val());
  return make_unary(e, x, e + 1.0);
}
inline var sqrt(const var& x) {
  const double s = std::sqrt(x.val());
  return make_unary(s, x, 0.5 / s);
}
inline var cbrt(const var& x) {
  const double c = std::cbrt(x.val());
  return make_unary(c, x, 1.0 / (3.0 * c * c));
}
inline var square(const var& x) { return make_unary(x.val() * x.val(), x, 2.0 * x.val()); }
inline var inv(const var& x) {
  const double i = 1.0 / x.val();
  return make_unary(i, x, -i * i);
}
inline var erf(const var& x) {
  const double v = x.val();
  return make_unary(std::erf(v), x, 2.0 / std::sqrt(std::numbers::pi) * std::exp(-v * v));
}
inline var erfc(const var& x) {
  const double v = x.val();
  return make_unary(std::erfc(v), x, -2.0 / std::sqrt(std::numbers::pi) * std::exp(-v * v));
}
/// Phi(x) with the standard normal density as partial.
inline var Phi(const var& x) {
  const double v = x.val();
  return make_unary(ad::Phi(v), x, std::exp(-0.5 * v * v) / std::sqrt(2.0 * std::numbers::pi));
}
/// |x|; the partial at 0 is 0.
inline var fabs(const var& x) {
  const double v = x.val();
  return make_unary(std::fabs(v), x, v > 0.0 ? 1.0 : (v < 0.0 ? -1.0 : 0.0));
}
inline var abs(const var& x) { return fabs(x); }
inline var sin(const var& x) { return make_unary(std::sin(x.val()), x, std::cos(x.val())); }
inline var cos(const var& x) { return make_unary(std::cos(x.val()), x, -std::sin(x.val())); }
inline var tan(const var& x) {
  const double t = std::tan(x.val());
  return make_unary(t, x, 1.0 + t * t);
}
inline var tanh(const var& x) {
  const double t = std::tanh(x.val());
  return make_unary(t, x, 1.0 - t * t);
}
inline var sinh(const var& x) { return make_unary(std::sinh(x.val()), x, std::cosh(x.val())); }
inline var cosh(const var& x) { return make_unary(std::cosh(x.val()), x, std::sinh(x.val())); }
inline var atan(const var& x) {
  const double v = x.val();
  return make_unary(std::atan(v), x, 1.0 / (1.0 + v * v));
}
inline var lgamma(const var& x) { return make_unary(ad::lgamma(x.val()), x, ad::digamma(x.val())); }
inline var digamma(const var& x) { return make_unary(ad::digamma(x.val()), x, ad::trigamma(x.val())); }
inline var trigamma(const var& x) {
  return make_unary(ad::trigamma(x.val()), x, ad::tetragamma(x.val()));
}
inline var log1m(const var& x) { return make_unary(ad::log1m(x.val()), x, -1.0 / (1.0 - x.val())); }
inline var log1p_exp(const var& x) {
  return make_unary(ad::log1p_exp(x.val()), x, ad::inv_logit(x.val()));
}
/// log(1 - exp(x)); partial -1 / expm1(-x).
inline var log1m_exp(const var& x) {
  return make_unary(ad::log1m_exp(x.val()), x, -1.0 / std::expm1(-x.val()));
}
inline var inv_logit(const var& x) {
  const double p = ad::inv_logit(x.val());
  // p (1 - p) with 1 - p computed as inv_logit(-x): no cancellation at large x.
  return make_unary(p, x, p * ad::inv_logit(-x.val()));
}
inline var logit(const var& x) {
  const double v = x.val();
  return make_unary(ad::logit(v), x, 1.0 / (v * (1.0 - v)));
}
inline var log_inv_logit(const var& x) {
  return make_unary(ad::log_inv_logit(x.val()), x, ad::inv_logit(-x.val()));
}
inline var log1m_inv_logit(const var& x) {
  return make_unary(ad::log1m_inv_logit(x.val()), x, -ad::inv_logit(x.val()));
}

// ---- two arguments --------------------------------------------------------

namespace detail {
// d a^b / da = b a^(b-1), zero when b == 0 (even at a == 0).
inline double pow_da(double a, double b) { return b == 0.0 ? 0.0 : b * std::pow(a, b - 1.0); }
// d a^b / db = log(a) a^b, zero at a == 0 (the limit for b > 0).
inline double pow_db(double a, double value) { return a == 0.0 ? 0.0 : std::log(a) * value; }
}  // namespace detail

inline var pow(const var& a, const var& b) {
  const double v = std::pow(a.val(), b.val());
  return make_binary(v, a, b, detail::pow_da(a.val(), b.val()), detail::pow_db(a.val(), v));
}
inline var pow(const var& a, double b) {
  return make_unary(std::pow(a.val(), b), a, detail::pow_da(a.val(), b));
}
inline var pow(double a, const var& b) {
  const double v = std::pow(a, b.val());
  return make_unary(v, b, detail::pow_db(a, v));
}

inline var lbeta(const var& a, const var& b) {
  const double dab = ad::digamma(a.val() + b.val());
  return make_binary(ad::lbeta(a.val(), b.val()), a, b, ad::digamma(a.val()) - dab,
                     ad::digamma(b.val()) - dab);
}
inline var lbeta(const var& a, double b) {
  return make_unary(ad::lbeta(a.val(), b), a, ad::digamma(a.val()) - ad::digamma(a.val() + b));
}
inline var lbeta(double a, const var& b) {
  return make_unary(ad::lbeta(a, b.val()), b, ad::digamma(b.val()) - ad::digamma(a + b.val()));
}

/// fmin/fmax: the partial goes to the chosen argument (the first on a tie).
inline var fmin(const var& a, const var& b) { return b.val() < a.val() ? b : a; }
inline var fmin(const var& a, double b) { return b < a.val() ? var(b) : a; }
inline var fmin(double a, const var& b) { return b.val() < a ? b : var(a); }
inline var fmax(const var& a, const var& b) { return b.val() > a.val() ? b : a; }
inline var fmax(const var& a, double b) { return b > a.val() ? var(b) : a; }
inline var fmax(double a, const var& b) { return b.val() > a ? b : var(a); }

namespace detail {
// Partials of log(exp(a) + exp(b)): softmax weights, computed without overflow.
inline void lse_partials(double a, double b, double& da, double& db) {
  if (a >= b) {
    const double e = std::exp(b - a);
    da = 1.0 / (1.0 + e);
    db = e * da;
  } else {
    const double e = std::exp(a - b);
    db = 1.0 / (1.0 + e);
    da = e * db;
  }
}
}  // namespace detail

inline var log_sum_exp(const var& a, const var& b) {
  double da, db;
  detail::lse_partials(a.val(), b.val(), da, db);
  return make_binary(ad::log_sum_exp(a.val(), b.val()), a, b, da, db);
}
inline var log_sum_exp(const var& a, double b) {
  double da, db;
  detail::lse_partials(a.val(), b, da, db);
  return make_unary(ad::log_sum_exp(a.val(), b), a, da);
}
inline var log_sum_exp(double a, const var& b) { return log_sum_exp(b, a); }

/// log(exp(a) - exp(b)); partials -1/expm1(b - a) and -1/expm1(a - b).
inline var log_diff_exp(const var& a, const var& b) {
  const double d = b.val() - a.val();
  return make_binary(ad::log_diff_exp(a.val(), b.val()), a, b, -1.0 / std::expm1(d),
                     -1.0 / std::expm1(-d));
}
inline var log_diff_exp(const var& a, double b) {
  return make_unary(ad::log_diff_exp(a.val(), b), a, -1.0 / std::expm1(b - a.val()));
}
inline var log_diff_exp(double a, const var& b) {
  return make_unary(ad::log_diff_exp(a, b.val()), b, -1.0 / std::expm1(a - b.val()));
}

}  // namespace nutshell::ad

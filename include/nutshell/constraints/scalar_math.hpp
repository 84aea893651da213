// The few numerically careful scalar functions the transforms need, written
// once over the scalar type T (double or ad::var). They use only
// arithmetic, exp, log, log1p, sqrt and fabs, found by argument-dependent
// lookup for ad::var and from <cmath> for double, and branch on the value
// (never on a var) so the same code records the same tape every time the
// branch is taken.
#pragma once

#include <cmath>

namespace nutshell::constraints::detail {

/// The value of a scalar: the identity for double.
inline double value(double x) { return x; }
/// The value of an AD scalar (ad::value_of, found by argument-dependent lookup).
template <class T>
double value(const T& x) {
  return value_of(x);
}

/// exp, log, log1p, sqrt, fabs for double and, by ADL, for ad::var.
template <class T>
T exp_(const T& x) {
  using std::exp;
  return exp(x);
}
template <class T>
T log_(const T& x) {
  using std::log;
  return log(x);
}
template <class T>
T log1p_(const T& x) {
  using std::log1p;
  return log1p(x);
}
template <class T>
T sqrt_(const T& x) {
  using std::sqrt;
  return sqrt(x);
}

/// 1 / (1 + exp(-x)), without overflow on either side.
template <class T>
T inv_logit(const T& x) {
  if (value(x) >= 0.0) return 1.0 / (1.0 + exp_(T(-x)));
  const T e = exp_(x);
  return e / (1.0 + e);
}

/// log(inv_logit(x)) + log(1 - inv_logit(x)), the log-derivative of
/// inv_logit: -|x| - 2 log1p(exp(-|x|)), exact far into both tails.
template <class T>
T log_inv_logit_derivative(const T& x) {
  const T a = value(x) >= 0.0 ? T(x) : T(-x);  // |x|, differentiable away from 0
  return -a - 2.0 * log1p_(exp_(T(-a)));
}

/// tanh(x) as (1 - e) / (1 + e) with e = exp(-2|x|): no overflow.
template <class T>
T tanh_(const T& x) {
  const bool negative = value(x) < 0.0;
  const T a = negative ? T(-x) : T(x);
  const T e = exp_(T(-2.0 * a));
  const T t = (1.0 - e) / (1.0 + e);
  return negative ? T(-t) : t;
}

/// log(1 - tanh(x)^2) = log 4 - 2|x| - 2 log1p(exp(-2|x|)), accurate where
/// tanh(x) rounds to +-1.
template <class T>
T log1m_tanh_sq(const T& x) {
  const T a = value(x) >= 0.0 ? T(x) : T(-x);
  return std::log(4.0) - 2.0 * a - 2.0 * log1p_(exp_(T(-2.0 * a)));
}

/// log(p / (1 - p)) for double p in (0, 1).
inline double logit(double p) { return std::log(p) - std::log1p(-p); }

}  // namespace nutshell::constraints::detail

// Forward mode: `fvar<S>` carries a value and a tangent of scalar type S.
// `dual` (S = double) gives directional derivatives; `fvar<var>` runs forward
// mode on top of the reverse tape, which is how `hessian_vector_product` gets
// exact Hessian-vector products (reverse sweep of the tangent).
#pragma once

#include <cmath>
#include <numbers>
#include <span>
#include <type_traits>

#include "nutshell/ad/scalar_var.hpp"

namespace nutshell::ad {

/// A value and a tangent (d value / dt along one direction).
template <class S>
struct fvar {
  S val_;
  S d_;
  fvar() : val_(0.0), d_(0.0) {}
  fvar(double v) : val_(v), d_(0.0) {}  // NOLINT: constants convert implicitly
  fvar(const S& v, const S& d) : val_(v), d_(d) {}
  template <class U = S>
    requires(!std::is_same_v<U, double>)
  fvar(const S& v) : val_(v), d_(0.0) {}  // NOLINT
  /// The value.
  double val() const { return value_of(val_); }
  /// The tangent.
  const S& tangent() const { return d_; }

  fvar& operator+=(const fvar& b) { return *this = *this + b; }
  fvar& operator-=(const fvar& b) { return *this = *this - b; }
  fvar& operator*=(const fvar& b) { return *this = *this * b; }
  fvar& operator/=(const fvar& b) { return *this = *this / b; }
  fvar& operator+=(double b) { return *this = *this + b; }
  fvar& operator-=(double b) { return *this = *this - b; }
  fvar& operator*=(double b) { return *this = *this * b; }
  fvar& operator/=(double b) { return *this = *this / b; }
};

/// Forward-mode scalar over doubles.
using dual = fvar<double>;

template <class S>
inline constexpr bool is_fvar_v = false;
template <class S>
inline constexpr bool is_fvar_v<fvar<S>> = true;

/// The value of a forward-mode scalar as a double.
template <class S>
double value_of(const fvar<S>& x) {
  return value_of(x.val_);
}

// ---- arithmetic ----------------------------------------------------------
template <class S>
fvar<S> operator-(const fvar<S>& a) { return {-a.val_, -a.d_}; }
template <class S>
fvar<S> operator+(const fvar<S>& a) { return a; }
template <class S>
fvar<S> operator+(const fvar<S>& a, const fvar<S>& b) { return {a.val_ + b.val_, a.d_ + b.d_}; }
template <class S>
fvar<S> operator+(const fvar<S>& a, double b) { return {a.val_ + b, a.d_}; }
template <class S>
fvar<S> operator+(double a, const fvar<S>& b) { return {a + b.val_, b.d_}; }
template <class S>
fvar<S> operator-(const fvar<S>& a, const fvar<S>& b) { return {a.val_ - b.val_, a.d_ - b.d_}; }
template <class S>
fvar<S> operator-(const fvar<S>& a, double b) { return {a.val_ - b, a.d_}; }
template <class S>
fvar<S> operator-(double a, const fvar<S>& b) { return {a - b.val_, -b.d_}; }
template <class S>
fvar<S> operator*(const fvar<S>& a, const fvar<S>& b) {
  return {a.val_ * b.val_, a.d_ * b.val_ + a.val_ * b.d_};
}
template <class S>
fvar<S> operator*(const fvar<S>& a, double b) { return {a.val_ * b, a.d_ * b}; }
template <class S>
fvar<S> operator*(double a, const fvar<S>& b) { return {a * b.val_, a * b.d_}; }
template <class S>
fvar<S> operator/(const fvar<S>& a, const fvar<S>& b) {
  const S q = a.val_ / b.val_;
  return {q, (a.d_ - q * b.d_) / b.val_};
}
template <class S>
fvar<S> operator/(const fvar<S>& a, double b) { return {a.val_ / b, a.d_ / b}; }
template <class S>
fvar<S> operator/(double a, const fvar<S>& b) {
  const S q = a / b.val_;
  return {q, -q * b.d_ / b.val_};
}

#define NUTSHELL_AD_FVAR_COMPARE(OP)                                                      \
  template <class S>                                                                      \
  bool operator OP(const fvar<S>& a, const fvar<S>& b) { return a.val() OP b.val(); }    \
  template <class S>                                                                      \
  bool operator OP(const fvar<S>& a, double b) { return a.val() OP b; }                  \
  template <class S>                                                                      \
  bool operator OP(double a, const fvar<S>& b) { return a OP b.val(); }
NUTSHELL_AD_FVAR_COMPARE(==)
NUTSHELL_AD_FVAR_COMPARE(!=)
NUTSHELL_AD_FVAR_COMPARE(<)
NUTSHELL_AD_FVAR_COMPARE(<=)
NUTSHELL_AD_FVAR_COMPARE(>)
NUTSHELL_AD_FVAR_COMPARE(>=)
#undef NUTSHELL_AD_FVAR_COMPARE

// ---- one argument: value f(v), tangent f'(v) d -----------------------------
#define NUTSHELL_AD_FVAR_UNARY(NAME, VALUE, DERIV)         \
  template <class S>                                      \
  fvar<S> NAME(const fvar<S>& a) {                        \
    const S& v = a.val_;                                  \
    const S fv = VALUE;                                   \
    return {fv, a.d_ * (DERIV)};                          \
  }
NUTSHELL_AD_FVAR_UNARY(exp, ad::exp(v), fv)
NUTSHELL_AD_FVAR_UNARY(log, ad::log(v), 1.0 / v)
NUTSHELL_AD_FVAR_UNARY(log1p, ad::log1p(v), 1.0 / (1.0 + v))
NUTSHELL_AD_FVAR_UNARY(expm1, ad::expm1(v), fv + 1.0)
NUTSHELL_AD_FVAR_UNARY(sqrt, ad::sqrt(v), 0.5 / fv)
NUTSHELL_AD_FVAR_UNARY(cbrt, ad::cbrt(v), 1.0 / (3.0 * fv * fv))
NUTSHELL_AD_FVAR_UNARY(square, v * v, 2.0 * v)
NUTSHELL_AD_FVAR_UNARY(inv, 1.0 / v, -fv * fv)
NUTSHELL_AD_FVAR_UNARY(erf, ad::erf(v), 2.0 / std::sqrt(std::numbers::pi) * ad::exp(-v * v))
NUTSHELL_AD_FVAR_UNARY(erfc, ad::erfc(v), -2.0 / std::sqrt(std::numbers::pi) * ad::exp(-v * v))
NUTSHELL_AD_FVAR_UNARY(Phi, ad::Phi(v), ad::exp(-0.5 * v * v) / std::sqrt(2.0 * std::numbers::pi))
NUTSHELL_AD_FVAR_UNARY(sin, ad::sin(v), ad::cos(v))
NUTSHELL_AD_FVAR_UNARY(cos, ad::cos(v), -ad::sin(v))
NUTSHELL_AD_FVAR_UNARY(tan, ad::tan(v), 1.0 + fv * fv)
NUTSHELL_AD_FVAR_UNARY(tanh, ad::tanh(v), 1.0 - fv * fv)
NUTSHELL_AD_FVAR_UNARY(sinh, ad::sinh(v), ad::cosh(v))
NUTSHELL_AD_FVAR_UNARY(cosh, ad::cosh(v), ad::sinh(v))
NUTSHELL_AD_FVAR_UNARY(atan, ad::atan(v), 1.0 / (1.0 + v * v))
NUTSHELL_AD_FVAR_UNARY(lgamma, ad::lgamma(v), ad::digamma(v))
NUTSHELL_AD_FVAR_UNARY(digamma, ad::digamma(v), ad::trigamma(v))
NUTSHELL_AD_FVAR_UNARY(trigamma, ad::trigamma(v), ad::tetragamma(value_of(v)))
NUTSHELL_AD_FVAR_UNARY(log1m, ad::log1m(v), -1.0 / (1.0 - v))
NUTSHELL_AD_FVAR_UNARY(log1p_exp, ad::log1p_exp(v), ad::inv_logit(v))
// -e^x / (1 - e^x) as -exp(x - log1m_exp(x)): no inf * 0 far in the left tail.
NUTSHELL_AD_FVAR_UNARY(log1m_exp, ad::log1m_exp(v), -ad::exp(v - fv))
NUTSHELL_AD_FVAR_UNARY(inv_logit, ad::inv_logit(v), fv * ad::inv_logit(-v))
NUTSHELL_AD_FVAR_UNARY(logit, ad::logit(v), 1.0 / (v * (1.0 - v)))
NUTSHELL_AD_FVAR_UNARY(log_inv_logit, ad::log_inv_logit(v), ad::inv_logit(-v))
NUTSHELL_AD_FVAR_UNARY(log1m_inv_logit, ad::log1m_inv_logit(v), -ad::inv_logit(v))
#undef NUTSHELL_AD_FVAR_UNARY

/// |x|; tangent 0 at 0.
template <class S>
fvar<S> fabs(const fvar<S>& a) {
  const double v = a.val();
  return v > 0.0 ? a : (v < 0.0 ? -a : fvar<S>(a.val_, a.d_ * 0.0));
}
template <class S>
fvar<S> abs(const fvar<S>& a) { return fabs(a); }

// ---- two arguments ----------------------------------------------------------
template <class S>
fvar<S> pow(const fvar<S>& a, const fvar<S>& b) {
  const S v = ad::pow(a.val_, b.val_);
  const double av = a.val(), bv = b.val();
  const S da = bv == 0.0 ? S(0.0) : b.val_ * ad::pow(a.val_, b.val_ - 1.0);
  const S db = av == 0.0 ? S(0.0) : ad::log(a.val_) * v;
  return {v, a.d_ * da + b.d_ * db};
}
template <class S>
fvar<S> pow(const fvar<S>& a, double b) {
  const S da = b == 0.0 ? S(0.0) : b * ad::pow(a.val_, b - 1.0);
  return {ad::pow(a.val_, b), a.d_ * da};
}
template <class S>
fvar<S> pow(double a, const fvar<S>& b) {
  const S v = ad::pow(a, b.val_);
  return {v, a == 0.0 ? b.d_ * 0.0 : b.d_ * std::log(a) * v};
}
template <class S>
fvar<S> lbeta(const fvar<S>& a, const fvar<S>& b) {
  const S dab = ad::digamma(a.val_ + b.val_);
  return {ad::lbeta(a.val_, b.val_),
          a.d_ * (ad::digamma(a.val_) - dab) + b.d_ * (ad::digamma(b.val_) - dab)};
}
template <class S>
fvar<S> lbeta(const fvar<S>& a, double b) { return lbeta(a, fvar<S>(b)); }
template <class S>
fvar<S> lbeta(double a, const fvar<S>& b) { return lbeta(fvar<S>(a), b); }
template <class S>
fvar<S> fmin(const fvar<S>& a, const fvar<S>& b) { return b.val() < a.val() ? b : a; }
template <class S>
fvar<S> fmin(const fvar<S>& a, double b) { return b < a.val() ? fvar<S>(b) : a; }
template <class S>
fvar<S> fmin(double a, const fvar<S>& b) { return b.val() < a ? b : fvar<S>(a); }
template <class S>
fvar<S> fmax(const fvar<S>& a, const fvar<S>& b) { return b.val() > a.val() ? b : a; }
template <class S>
fvar<S> fmax(const fvar<S>& a, double b) { return b > a.val() ? fvar<S>(b) : a; }
template <class S>
fvar<S> fmax(double a, const fvar<S>& b) { return b.val() > a ? b : fvar<S>(a); }
template <class S>
fvar<S> log_sum_exp(const fvar<S>& a, const fvar<S>& b) {
  const S v = ad::log_sum_exp(a.val_, b.val_);
  return {v, a.d_ * ad::exp(a.val_ - v) + b.d_ * ad::exp(b.val_ - v)};
}
template <class S>
fvar<S> log_sum_exp(const fvar<S>& a, double b) { return log_sum_exp(a, fvar<S>(b)); }
template <class S>
fvar<S> log_sum_exp(double a, const fvar<S>& b) { return log_sum_exp(fvar<S>(a), b); }
template <class S>
fvar<S> log_diff_exp(const fvar<S>& a, const fvar<S>& b) {
  return {ad::log_diff_exp(a.val_, b.val_),
          a.d_ * (-1.0 / ad::expm1(b.val_ - a.val_)) + b.d_ * (-1.0 / ad::expm1(a.val_ - b.val_))};
}
template <class S>
fvar<S> log_diff_exp(const fvar<S>& a, double b) { return log_diff_exp(a, fvar<S>(b)); }
template <class S>
fvar<S> log_diff_exp(double a, const fvar<S>& b) { return log_diff_exp(fvar<S>(a), b); }

}  // namespace nutshell::ad

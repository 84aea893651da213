// Log densities of the continuous families on (0, inf) and (0, 1):
// exponential, gamma, inv_gamma, beta. Same conventions as continuous.hpp
// (scalars or vectors of double or var, one tape node, propto, errors).
#pragma once

#include <cmath>
#include <limits>

#include "nutshell/ad/scalar_double.hpp"
#include "nutshell/distributions/continuous.hpp"
#include "nutshell/distributions/vectorise.hpp"

namespace nutshell::distributions {

/// log Exponential(y | beta) = log beta - beta y for y >= 0 (else
/// -infinity). beta > 0 finite (the rate).
template <bool propto = false, detail::Arg Y, detail::Arg Beta>
detail::return_t<Y, Beta> exponential_lpdf(const Y& y, const Beta& beta) {
  constexpr const char* fn = "exponential_lpdf";
  const auto ys = detail::seq(y);
  const auto bs = detail::seq(beta);
  const std::size_t n = detail::broadcast_size(fn, ys, bs);
  detail::check_variate(fn, ys);
  detail::check_scale(fn, bs, "rate");
  for (std::size_t i = 0; i < n; ++i)
    if (ys[i] < 0.0) return detail::constant<Y, Beta>(detail::kNegInf);
  if constexpr (!detail::include<propto, Y, Beta>) {
    return 0.0;
  } else {
    detail::Partials<Y, Beta> p(y, beta);
    double lp = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      const double b = bs[i];
      if constexpr (detail::include<propto, Beta>) lp += std::log(b);
      lp -= b * ys[i];
      p.template add<0>(i, -b);
      p.template add<1>(i, 1.0 / b - ys[i]);
    }
    return p.build(lp, y, beta);
  }
}

/// log Gamma(y | alpha, beta) = alpha log beta - lgamma(alpha)
/// + (alpha - 1) log y - beta y for y > 0 (else -infinity). alpha (shape)
/// and beta (rate) > 0 finite.
template <bool propto = false, detail::Arg Y, detail::Arg Alpha, detail::Arg Beta>
detail::return_t<Y, Alpha, Beta> gamma_lpdf(const Y& y, const Alpha& alpha, const Beta& beta) {
  constexpr const char* fn = "gamma_lpdf";
  const auto ys = detail::seq(y);
  const auto as = detail::seq(alpha);
  const auto bs = detail::seq(beta);
  const std::size_t n = detail::broadcast_size(fn, ys, as, bs);
  detail::check_variate(fn, ys);
  detail::check_scale(fn, as, "shape");
  detail::check_scale(fn, bs, "rate");
  for (std::size_t i = 0; i < n; ++i)
    if (!(ys[i] > 0.0)) return detail::constant<Y, Alpha, Beta>(detail::kNegInf);
  if constexpr (!detail::include<propto, Y, Alpha, Beta>) {
    return 0.0;
  } else {
    detail::Partials<Y, Alpha, Beta> p(y, alpha, beta);
    double lp = 0.0;
    // Special functions of alpha, recomputed only when alpha changes.
    double last_a = std::numeric_limits<double>::quiet_NaN(), lg = 0.0, dg = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      const double a = as[i], b = bs[i], yv = ys[i], log_y = std::log(yv), log_b = std::log(b);
      if constexpr (detail::include<propto, Alpha, Beta>) lp += a * log_b;
      if (a != last_a) {
        last_a = a;
        if constexpr (detail::include<propto, Alpha>) lg = ad::lgamma(a);
        if constexpr (detail::is_var_arg<Alpha>) dg = ad::digamma(a);
      }
      if constexpr (detail::include<propto, Alpha>) lp -= lg;
      if constexpr (detail::include<propto, Y, Alpha>) lp += (a - 1.0) * log_y;
      lp -= b * yv;
      p.template add<0>(i, (a - 1.0) / yv - b);
      if constexpr (detail::is_var_arg<Alpha>) p.template add<1>(i, log_b - dg + log_y);
      p.template add<2>(i, a / b - yv);
    }
    return p.build(lp, y, alpha, beta);
  }
}

/// log InvGamma(y | alpha, beta) = alpha log beta - lgamma(alpha)
/// - (alpha + 1) log y - beta / y for y > 0 (else -infinity). alpha (shape)
/// and beta (scale) > 0 finite.
template <bool propto = false, detail::Arg Y, detail::Arg Alpha, detail::Arg Beta>
detail::return_t<Y, Alpha, Beta> inv_gamma_lpdf(const Y& y, const Alpha& alpha, const Beta& beta) {
  constexpr const char* fn = "inv_gamma_lpdf";
  const auto ys = detail::seq(y);
  const auto as = detail::seq(alpha);
  const auto bs = detail::seq(beta);
  const std::size_t n = detail::broadcast_size(fn, ys, as, bs);
  detail::check_variate(fn, ys);
  detail::check_scale(fn, as, "shape");
  detail::check_scale(fn, bs, "scale");
  for (std::size_t i = 0; i < n; ++i)
    if (!(ys[i] > 0.0)) return detail::constant<Y, Alpha, Beta>(detail::kNegInf);
  if constexpr (!detail::include<propto, Y, Alpha, Beta>) {
    return 0.0;
  } else {
    detail::Partials<Y, Alpha, Beta> p(y, alpha, beta);
    double lp = 0.0;
    // Special functions of alpha, recomputed only when alpha changes.
    double last_a = std::numeric_limits<double>::quiet_NaN(), lg = 0.0, dg = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      const double a = as[i], b = bs[i], yv = ys[i], inv_y = 1.0 / yv;
      const double log_y = std::log(yv), log_b = std::log(b);
      if constexpr (detail::include<propto, Alpha, Beta>) lp += a * log_b;
      if (a != last_a) {
        last_a = a;
        if constexpr (detail::include<propto, Alpha>) lg = ad::lgamma(a);
        if constexpr (detail::is_var_arg<Alpha>) dg = ad::digamma(a);
      }
      if constexpr (detail::include<propto, Alpha>) lp -= lg;
      if constexpr (detail::include<propto, Y, Alpha>) lp -= (a + 1.0) * log_y;
      lp -= b * inv_y;
      p.template add<0>(i, (b * inv_y - (a + 1.0)) * inv_y);
      if constexpr (detail::is_var_arg<Alpha>) p.template add<1>(i, log_b - dg - log_y);
      p.template add<2>(i, a / b - inv_y);
    }
    return p.build(lp, y, alpha, beta);
  }
}

/// log Beta(y | a, b) = lgamma(a + b) - lgamma(a) - lgamma(b)
/// + (a - 1) log y + (b - 1) log(1 - y) for 0 < y < 1 (else -infinity).
/// a, b > 0 finite.
template <bool propto = false, detail::Arg Y, detail::Arg A, detail::Arg B>
detail::return_t<Y, A, B> beta_lpdf(const Y& y, const A& a, const B& b) {
  constexpr const char* fn = "beta_lpdf";
  const auto ys = detail::seq(y);
  const auto as = detail::seq(a);
  const auto bs = detail::seq(b);
  const std::size_t n = detail::broadcast_size(fn, ys, as, bs);
  detail::check_variate(fn, ys);
  detail::check_scale(fn, as, "first shape");
  detail::check_scale(fn, bs, "second shape");
  for (std::size_t i = 0; i < n; ++i)
    if (!(ys[i] > 0.0 && ys[i] < 1.0)) return detail::constant<Y, A, B>(detail::kNegInf);
  if constexpr (!detail::include<propto, Y, A, B>) {
    return 0.0;
  } else {
    detail::Partials<Y, A, B> p(y, a, b);
    double lp = 0.0;
    // Special functions of (a, b), recomputed only when they change.
    const double nan = std::numeric_limits<double>::quiet_NaN();
    double last_a = nan, last_b = nan, lb = 0.0, dab = 0.0, da = 0.0, db = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      const double av = as[i], bv = bs[i], yv = ys[i];
      const double log_y = std::log(yv), log1m_y = std::log1p(-yv);
      if (av != last_a || bv != last_b) {
        last_a = av;
        last_b = bv;
        if constexpr (detail::include<propto, A, B>) lb = ad::lbeta(av, bv);
        if constexpr (detail::is_var_arg<A> || detail::is_var_arg<B>) {
          dab = ad::digamma(av + bv);
          da = ad::digamma(av);
          db = ad::digamma(bv);
        }
      }
      if constexpr (detail::include<propto, A, B>) lp -= lb;
      if constexpr (detail::include<propto, Y, A>) lp += (av - 1.0) * log_y;
      if constexpr (detail::include<propto, Y, B>) lp += (bv - 1.0) * log1m_y;
      p.template add<0>(i, (av - 1.0) / yv - (bv - 1.0) / (1.0 - yv));
      p.template add<1>(i, dab - da + log_y);
      p.template add<2>(i, dab - db + log1m_y);
    }
    return p.build(lp, y, a, b);
  }
}

}  // namespace nutshell::distributions

// The same densities for nested autodiff scalars (Hessian-vector products).
#include "nutshell/distributions/nested_positive.hpp"  // IWYU pragma: export

// The log densities of continuous.hpp for nested autodiff scalars
// (fvar<var>, for Hessian-vector products): normal, student_t, cauchy,
// lognormal, uniform. Written out in the ad:: scalar math; see nested.hpp
// for why, and continuous.hpp for the conventions (the same arguments,
// checks, support and propto; these overloads are chosen only when an
// argument is nested). continuous.hpp includes this file.
#pragma once

#include <cstddef>

#include "nutshell/ad/dual.hpp"
#include "nutshell/ad/scalar_double.hpp"
#include "nutshell/distributions/continuous.hpp"
#include "nutshell/distributions/nested.hpp"

namespace nutshell::distributions {

/// normal_lpdf for nested scalars.
template <bool propto = false, detail::AnyArg Y, detail::AnyArg Mu, detail::AnyArg Sigma>
  requires detail::AnyNested<Y, Mu, Sigma>
detail::nested_t<Y, Mu, Sigma> normal_lpdf(const Y& y, const Mu& mu, const Sigma& sigma) {
  using R = detail::nested_t<Y, Mu, Sigma>;
  static_assert(detail::nested_compatible<R, Y, Mu, Sigma>, "nested arguments mix only with data");
  normal_lpdf<false>(detail::values(y), detail::values(mu), detail::values(sigma));  // checks
  const std::size_t n = detail::any_size(y, mu, sigma);
  R lp = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto& s = detail::at(sigma, i);
    const auto z = (detail::at(y, i) - detail::at(mu, i)) / s;
    lp -= 0.5 * (z * z);
    if constexpr (detail::nested_include<propto, Sigma>) lp -= ad::log(s);
  }
  if constexpr (!propto) lp -= static_cast<double>(n) * detail::kLogSqrtTwoPi;
  return lp;
}

/// student_t_lpdf for nested scalars.
template <bool propto = false, detail::AnyArg Y, detail::AnyArg Nu, detail::AnyArg Mu,
          detail::AnyArg Sigma>
  requires detail::AnyNested<Y, Nu, Mu, Sigma>
detail::nested_t<Y, Nu, Mu, Sigma> student_t_lpdf(const Y& y, const Nu& nu, const Mu& mu,
                                                  const Sigma& sigma) {
  using R = detail::nested_t<Y, Nu, Mu, Sigma>;
  static_assert(detail::nested_compatible<R, Y, Nu, Mu, Sigma>, "nested arguments mix only with data");
  student_t_lpdf<false>(detail::values(y), detail::values(nu), detail::values(mu),
                        detail::values(sigma));
  const std::size_t n = detail::any_size(y, nu, mu, sigma);
  R lp = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto& v = detail::at(nu, i);
    const auto& s = detail::at(sigma, i);
    const auto z = (detail::at(y, i) - detail::at(mu, i)) / s;
    if constexpr (detail::nested_include<propto, Nu>)
      lp += ad::lgamma(0.5 * (v + 1.0)) - ad::lgamma(0.5 * v) - 0.5 * ad::log(v);
    if constexpr (detail::nested_include<propto, Sigma>) lp -= ad::log(s);
    lp -= 0.5 * (v + 1.0) * ad::log1p(z * z / v);
  }
  if constexpr (!propto) lp -= 0.5 * static_cast<double>(n) * detail::kLogPi;
  return lp;
}

/// cauchy_lpdf for nested scalars.
template <bool propto = false, detail::AnyArg Y, detail::AnyArg Mu, detail::AnyArg Sigma>
  requires detail::AnyNested<Y, Mu, Sigma>
detail::nested_t<Y, Mu, Sigma> cauchy_lpdf(const Y& y, const Mu& mu, const Sigma& sigma) {
  using R = detail::nested_t<Y, Mu, Sigma>;
  static_assert(detail::nested_compatible<R, Y, Mu, Sigma>, "nested arguments mix only with data");
  cauchy_lpdf<false>(detail::values(y), detail::values(mu), detail::values(sigma));
  const std::size_t n = detail::any_size(y, mu, sigma);
  R lp = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto& s = detail::at(sigma, i);
    const auto z = (detail::at(y, i) - detail::at(mu, i)) / s;
    if constexpr (detail::nested_include<propto, Sigma>) lp -= ad::log(s);
    lp -= ad::log1p(z * z);
  }
  if constexpr (!propto) lp -= static_cast<double>(n) * detail::kLogPi;
  return lp;
}

/// lognormal_lpdf for nested scalars.
template <bool propto = false, detail::AnyArg Y, detail::AnyArg Mu, detail::AnyArg Sigma>
  requires detail::AnyNested<Y, Mu, Sigma>
detail::nested_t<Y, Mu, Sigma> lognormal_lpdf(const Y& y, const Mu& mu, const Sigma& sigma) {
  using R = detail::nested_t<Y, Mu, Sigma>;
  static_assert(detail::nested_compatible<R, Y, Mu, Sigma>, "nested arguments mix only with data");
  if (lognormal_lpdf<false>(detail::values(y), detail::values(mu), detail::values(sigma)) ==
      detail::kNestedNegInf)
    return R(detail::kNestedNegInf);
  const std::size_t n = detail::any_size(y, mu, sigma);
  R lp = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto& s = detail::at(sigma, i);
    const auto log_y = ad::log(detail::at(y, i));
    const auto z = (log_y - detail::at(mu, i)) / s;
    lp -= 0.5 * (z * z);
    if constexpr (detail::nested_include<propto, Sigma>) lp -= ad::log(s);
    if constexpr (detail::nested_include<propto, Y>) lp -= log_y;
  }
  if constexpr (!propto) lp -= static_cast<double>(n) * detail::kLogSqrtTwoPi;
  return lp;
}

/// uniform_lpdf for nested scalars.
template <bool propto = false, detail::AnyArg Y, detail::AnyArg Lo, detail::AnyArg Hi>
  requires detail::AnyNested<Y, Lo, Hi>
detail::nested_t<Y, Lo, Hi> uniform_lpdf(const Y& y, const Lo& lo, const Hi& hi) {
  using R = detail::nested_t<Y, Lo, Hi>;
  static_assert(detail::nested_compatible<R, Y, Lo, Hi>, "nested arguments mix only with data");
  if (uniform_lpdf<false>(detail::values(y), detail::values(lo), detail::values(hi)) ==
      detail::kNestedNegInf)
    return R(detail::kNestedNegInf);
  const std::size_t n = detail::any_size(y, lo, hi);
  R lp = 0.0;
  if constexpr (detail::nested_include<propto, Lo, Hi>)
    for (std::size_t i = 0; i < n; ++i) lp -= ad::log(detail::at(hi, i) - detail::at(lo, i));
  return lp;
}

}  // namespace nutshell::distributions

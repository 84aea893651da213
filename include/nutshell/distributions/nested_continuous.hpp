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
  return detail::nested_sum<R>(
      propto ? 0.0 : -detail::kLogSqrtTwoPi,
      [](const auto&... v) { return normal_lpdf<false>(v...); },
      [&](R& lp, std::size_t i) {
        const auto& s = detail::at(sigma, i);
        const auto z = (detail::at(y, i) - detail::at(mu, i)) / s;
        lp -= 0.5 * (z * z);
        if constexpr (detail::nested_include<propto, Sigma>) lp -= ad::log(s);
      },
      y, mu, sigma);
}

/// student_t_lpdf for nested scalars.
template <bool propto = false, detail::AnyArg Y, detail::AnyArg Nu, detail::AnyArg Mu,
          detail::AnyArg Sigma>
  requires detail::AnyNested<Y, Nu, Mu, Sigma>
detail::nested_t<Y, Nu, Mu, Sigma> student_t_lpdf(const Y& y, const Nu& nu, const Mu& mu,
                                                  const Sigma& sigma) {
  using R = detail::nested_t<Y, Nu, Mu, Sigma>;
  static_assert(detail::nested_compatible<R, Y, Nu, Mu, Sigma>, "nested arguments mix only with data");
  return detail::nested_sum<R>(
      propto ? 0.0 : -0.5 * detail::kLogPi,
      [](const auto&... v) { return student_t_lpdf<false>(v...); },
      [&](R& lp, std::size_t i) {
        const auto& v = detail::at(nu, i);
        const auto& s = detail::at(sigma, i);
        const auto z = (detail::at(y, i) - detail::at(mu, i)) / s;
        if constexpr (detail::nested_include<propto, Nu>)
          lp += ad::lgamma(0.5 * (v + 1.0)) - ad::lgamma(0.5 * v) - 0.5 * ad::log(v);
        if constexpr (detail::nested_include<propto, Sigma>) lp -= ad::log(s);
        lp -= 0.5 * (v + 1.0) * ad::log1p(z * z / v);
      },
      y, nu, mu, sigma);
}

/// cauchy_lpdf for nested scalars.
template <bool propto = false, detail::AnyArg Y, detail::AnyArg Mu, detail::AnyArg Sigma>
  requires detail::AnyNested<Y, Mu, Sigma>
detail::nested_t<Y, Mu, Sigma> cauchy_lpdf(const Y& y, const Mu& mu, const Sigma& sigma) {
  using R = detail::nested_t<Y, Mu, Sigma>;
  static_assert(detail::nested_compatible<R, Y, Mu, Sigma>, "nested arguments mix only with data");
  return detail::nested_sum<R>(
      propto ? 0.0 : -detail::kLogPi,
      [](const auto&... v) { return cauchy_lpdf<false>(v...); },
      [&](R& lp, std::size_t i) {
        const auto& s = detail::at(sigma, i);
        const auto z = (detail::at(y, i) - detail::at(mu, i)) / s;
        if constexpr (detail::nested_include<propto, Sigma>) lp -= ad::log(s);
        lp -= ad::log1p(z * z);
      },
      y, mu, sigma);
}

/// lognormal_lpdf for nested scalars.
template <bool propto = false, detail::AnyArg Y, detail::AnyArg Mu, detail::AnyArg Sigma>
  requires detail::AnyNested<Y, Mu, Sigma>
detail::nested_t<Y, Mu, Sigma> lognormal_lpdf(const Y& y, const Mu& mu, const Sigma& sigma) {
  using R = detail::nested_t<Y, Mu, Sigma>;
  static_assert(detail::nested_compatible<R, Y, Mu, Sigma>, "nested arguments mix only with data");
  return detail::nested_sum<R>(
      propto ? 0.0 : -detail::kLogSqrtTwoPi,
      [](const auto&... v) { return lognormal_lpdf<false>(v...); },
      [&](R& lp, std::size_t i) {
        const auto& s = detail::at(sigma, i);
        const auto log_y = ad::log(detail::at(y, i));
        const auto z = (log_y - detail::at(mu, i)) / s;
        lp -= 0.5 * (z * z);
        if constexpr (detail::nested_include<propto, Sigma>) lp -= ad::log(s);
        if constexpr (detail::nested_include<propto, Y>) lp -= log_y;
      },
      y, mu, sigma);
}

/// uniform_lpdf for nested scalars.
template <bool propto = false, detail::AnyArg Y, detail::AnyArg Lo, detail::AnyArg Hi>
  requires detail::AnyNested<Y, Lo, Hi>
detail::nested_t<Y, Lo, Hi> uniform_lpdf(const Y& y, const Lo& lo, const Hi& hi) {
  using R = detail::nested_t<Y, Lo, Hi>;
  static_assert(detail::nested_compatible<R, Y, Lo, Hi>, "nested arguments mix only with data");
  return detail::nested_sum<R>(
      0.0, [](const auto&... v) { return uniform_lpdf<false>(v...); },
      [&](R& lp, std::size_t i) {
        if constexpr (detail::nested_include<propto, Lo, Hi>)
          lp -= ad::log(detail::at(hi, i) - detail::at(lo, i));
      },
      y, lo, hi);
}

}  // namespace nutshell::distributions

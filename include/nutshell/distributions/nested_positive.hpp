// The log densities of continuous_positive.hpp for nested autodiff scalars
// (fvar<var>, for Hessian-vector products): exponential, gamma, inv_gamma,
// beta. See nested.hpp and continuous.hpp; continuous_positive.hpp includes
// this file.
#pragma once

#include <cstddef>

#include "nutshell/ad/dual.hpp"
#include "nutshell/ad/scalar_double.hpp"
#include "nutshell/distributions/continuous_positive.hpp"
#include "nutshell/distributions/nested.hpp"

namespace nutshell::distributions {

/// exponential_lpdf for nested scalars.
template <bool propto = false, detail::AnyArg Y, detail::AnyArg Beta>
  requires detail::AnyNested<Y, Beta>
detail::nested_t<Y, Beta> exponential_lpdf(const Y& y, const Beta& beta) {
  using R = detail::nested_t<Y, Beta>;
  static_assert(detail::nested_compatible<R, Y, Beta>, "nested arguments mix only with data");
  return detail::nested_sum<R>(
      0.0, [](const auto&... v) { return exponential_lpdf<false>(v...); },
      [&](R& lp, std::size_t i) {
        const auto& b = detail::at(beta, i);
        if constexpr (detail::nested_include<propto, Beta>) lp += ad::log(b);
        lp -= b * detail::at(y, i);
      },
      y, beta);
}

/// gamma_lpdf for nested scalars.
template <bool propto = false, detail::AnyArg Y, detail::AnyArg Alpha, detail::AnyArg Beta>
  requires detail::AnyNested<Y, Alpha, Beta>
detail::nested_t<Y, Alpha, Beta> gamma_lpdf(const Y& y, const Alpha& alpha, const Beta& beta) {
  using R = detail::nested_t<Y, Alpha, Beta>;
  static_assert(detail::nested_compatible<R, Y, Alpha, Beta>, "nested arguments mix only with data");
  return detail::nested_sum<R>(
      0.0, [](const auto&... v) { return gamma_lpdf<false>(v...); },
      [&](R& lp, std::size_t i) {
        const auto& a = detail::at(alpha, i);
        const auto& b = detail::at(beta, i);
        const auto& yv = detail::at(y, i);
        if constexpr (detail::nested_include<propto, Alpha, Beta>) lp += a * ad::log(b);
        if constexpr (detail::nested_include<propto, Alpha>) lp -= ad::lgamma(a);
        if constexpr (detail::nested_include<propto, Y, Alpha>) lp += (a - 1.0) * ad::log(yv);
        lp -= b * yv;
      },
      y, alpha, beta);
}

/// inv_gamma_lpdf for nested scalars.
template <bool propto = false, detail::AnyArg Y, detail::AnyArg Alpha, detail::AnyArg Beta>
  requires detail::AnyNested<Y, Alpha, Beta>
detail::nested_t<Y, Alpha, Beta> inv_gamma_lpdf(const Y& y, const Alpha& alpha, const Beta& beta) {
  using R = detail::nested_t<Y, Alpha, Beta>;
  static_assert(detail::nested_compatible<R, Y, Alpha, Beta>, "nested arguments mix only with data");
  return detail::nested_sum<R>(
      0.0, [](const auto&... v) { return inv_gamma_lpdf<false>(v...); },
      [&](R& lp, std::size_t i) {
        const auto& a = detail::at(alpha, i);
        const auto& b = detail::at(beta, i);
        const auto& yv = detail::at(y, i);
        if constexpr (detail::nested_include<propto, Alpha, Beta>) lp += a * ad::log(b);
        if constexpr (detail::nested_include<propto, Alpha>) lp -= ad::lgamma(a);
        if constexpr (detail::nested_include<propto, Y, Alpha>) lp -= (a + 1.0) * ad::log(yv);
        lp -= b / yv;
      },
      y, alpha, beta);
}

/// beta_lpdf for nested scalars.
template <bool propto = false, detail::AnyArg Y, detail::AnyArg A, detail::AnyArg B>
  requires detail::AnyNested<Y, A, B>
detail::nested_t<Y, A, B> beta_lpdf(const Y& y, const A& a, const B& b) {
  using R = detail::nested_t<Y, A, B>;
  static_assert(detail::nested_compatible<R, Y, A, B>, "nested arguments mix only with data");
  return detail::nested_sum<R>(
      0.0, [](const auto&... v) { return beta_lpdf<false>(v...); },
      [&](R& lp, std::size_t i) {
        const auto& av = detail::at(a, i);
        const auto& bv = detail::at(b, i);
        const auto& yv = detail::at(y, i);
        if constexpr (detail::nested_include<propto, A, B>) lp -= ad::lbeta(av, bv);
        if constexpr (detail::nested_include<propto, Y, A>) lp += (av - 1.0) * ad::log(yv);
        if constexpr (detail::nested_include<propto, Y, B>) lp += (bv - 1.0) * ad::log1m(yv);
      },
      y, a, b);
}

}  // namespace nutshell::distributions

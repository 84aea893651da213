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
  if (exponential_lpdf<false>(detail::values(y), detail::values(beta)) == detail::kNestedNegInf)
    return R(detail::kNestedNegInf);
  const std::size_t n = detail::any_size(y, beta);
  R lp = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto& b = detail::at(beta, i);
    if constexpr (detail::nested_include<propto, Beta>) lp += ad::log(b);
    lp -= b * detail::at(y, i);
  }
  return lp;
}

/// gamma_lpdf for nested scalars.
template <bool propto = false, detail::AnyArg Y, detail::AnyArg Alpha, detail::AnyArg Beta>
  requires detail::AnyNested<Y, Alpha, Beta>
detail::nested_t<Y, Alpha, Beta> gamma_lpdf(const Y& y, const Alpha& alpha, const Beta& beta) {
  using R = detail::nested_t<Y, Alpha, Beta>;
  static_assert(detail::nested_compatible<R, Y, Alpha, Beta>, "nested arguments mix only with data");
  if (gamma_lpdf<false>(detail::values(y), detail::values(alpha), detail::values(beta)) ==
      detail::kNestedNegInf)
    return R(detail::kNestedNegInf);
  const std::size_t n = detail::any_size(y, alpha, beta);
  R lp = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto& a = detail::at(alpha, i);
    const auto& b = detail::at(beta, i);
    const auto& yv = detail::at(y, i);
    if constexpr (detail::nested_include<propto, Alpha, Beta>) lp += a * ad::log(b);
    if constexpr (detail::nested_include<propto, Alpha>) lp -= ad::lgamma(a);
    if constexpr (detail::nested_include<propto, Y, Alpha>) lp += (a - 1.0) * ad::log(yv);
    lp -= b * yv;
  }
  return lp;
}

/// inv_gamma_lpdf for nested scalars.
template <bool propto = false, detail::AnyArg Y, detail::AnyArg Alpha, detail::AnyArg Beta>
  requires detail::AnyNested<Y, Alpha, Beta>
detail::nested_t<Y, Alpha, Beta> inv_gamma_lpdf(const Y& y, const Alpha& alpha, const Beta& beta) {
  using R = detail::nested_t<Y, Alpha, Beta>;
  static_assert(detail::nested_compatible<R, Y, Alpha, Beta>, "nested arguments mix only with data");
  if (inv_gamma_lpdf<false>(detail::values(y), detail::values(alpha), detail::values(beta)) ==
      detail::kNestedNegInf)
    return R(detail::kNestedNegInf);
  const std::size_t n = detail::any_size(y, alpha, beta);
  R lp = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto& a = detail::at(alpha, i);
    const auto& b = detail::at(beta, i);
    const auto& yv = detail::at(y, i);
    if constexpr (detail::nested_include<propto, Alpha, Beta>) lp += a * ad::log(b);
    if constexpr (detail::nested_include<propto, Alpha>) lp -= ad::lgamma(a);
    if constexpr (detail::nested_include<propto, Y, Alpha>) lp -= (a + 1.0) * ad::log(yv);
    lp -= b / yv;
  }
  return lp;
}

/// beta_lpdf for nested scalars.
template <bool propto = false, detail::AnyArg Y, detail::AnyArg A, detail::AnyArg B>
  requires detail::AnyNested<Y, A, B>
detail::nested_t<Y, A, B> beta_lpdf(const Y& y, const A& a, const B& b) {
  using R = detail::nested_t<Y, A, B>;
  static_assert(detail::nested_compatible<R, Y, A, B>, "nested arguments mix only with data");
  if (beta_lpdf<false>(detail::values(y), detail::values(a), detail::values(b)) ==
      detail::kNestedNegInf)
    return R(detail::kNestedNegInf);
  const std::size_t n = detail::any_size(y, a, b);
  R lp = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto& av = detail::at(a, i);
    const auto& bv = detail::at(b, i);
    const auto& yv = detail::at(y, i);
    if constexpr (detail::nested_include<propto, A, B>) lp -= ad::lbeta(av, bv);
    if constexpr (detail::nested_include<propto, Y, A>) lp += (av - 1.0) * ad::log(yv);
    if constexpr (detail::nested_include<propto, Y, B>) lp += (bv - 1.0) * ad::log1m(yv);
  }
  return lp;
}

}  // namespace nutshell::distributions

// The log masses of discrete.hpp for nested autodiff scalars (fvar<var>,
// for Hessian-vector products): poisson, poisson_log, binomial,
// binomial_logit, bernoulli, bernoulli_logit. Written out in the ad::
// scalar math (see nested.hpp); conventions as in discrete.hpp, which
// includes this file. A term n log(x) with n = 0 is left out, not formed as
// 0 * log(x): its derivatives would be NaN at x = 0.
#pragma once

#include <cstddef>

#include "nutshell/ad/dual.hpp"
#include "nutshell/ad/scalar_double.hpp"
#include "nutshell/distributions/discrete.hpp"
#include "nutshell/distributions/nested.hpp"

namespace nutshell::distributions {

/// poisson_lpmf for a nested rate.
template <bool propto = false, detail::Count N, detail::AnyArg Lambda>
  requires detail::AnyNested<Lambda>
detail::nested_t<Lambda> poisson_lpmf(const N& n, const Lambda& lambda) {
  using R = detail::nested_t<Lambda>;
  if (poisson_lpmf<false>(detail::values(n), detail::values(lambda)) == detail::kNestedNegInf)
    return R(detail::kNestedNegInf);
  const std::size_t size = detail::any_size(n, lambda);
  R lp = 0.0;
  for (std::size_t i = 0; i < size; ++i) {
    const double k = detail::at(n, i);
    const auto& l = detail::at(lambda, i);
    if constexpr (!propto) lp -= detail::log_factorial(k);
    if (k != 0.0) lp += k * ad::log(l);
    lp -= l;
  }
  return lp;
}

/// poisson_log_lpmf for a nested log rate.
template <bool propto = false, detail::Count N, detail::AnyArg Alpha>
  requires detail::AnyNested<Alpha>
detail::nested_t<Alpha> poisson_log_lpmf(const N& n, const Alpha& alpha) {
  using R = detail::nested_t<Alpha>;
  if (poisson_log_lpmf<false>(detail::values(n), detail::values(alpha)) == detail::kNestedNegInf)
    return R(detail::kNestedNegInf);
  const std::size_t size = detail::any_size(n, alpha);
  R lp = 0.0;
  for (std::size_t i = 0; i < size; ++i) {
    const double k = detail::at(n, i);
    const auto& a = detail::at(alpha, i);
    if constexpr (!propto) lp -= detail::log_factorial(k);
    if (k != 0.0) lp += k * a;
    lp -= ad::exp(a);
  }
  return lp;
}

/// binomial_lpmf for a nested probability.
template <bool propto = false, detail::Count N, detail::Count Trials, detail::AnyArg Theta>
  requires detail::AnyNested<Theta>
detail::nested_t<Theta> binomial_lpmf(const N& n, const Trials& trials, const Theta& theta) {
  using R = detail::nested_t<Theta>;
  if (binomial_lpmf<false>(detail::values(n), detail::values(trials), detail::values(theta)) ==
      detail::kNestedNegInf)
    return R(detail::kNestedNegInf);
  const std::size_t size = detail::any_size(n, trials, theta);
  R lp = 0.0;
  for (std::size_t i = 0; i < size; ++i) {
    const double k = detail::at(n, i), m = detail::at(trials, i);
    const auto& q = detail::at(theta, i);
    if constexpr (!propto)
      lp += detail::log_factorial(m) - detail::log_factorial(k) - detail::log_factorial(m - k);
    if (k != 0.0) lp += k * ad::log(q);
    if (m - k != 0.0) lp += (m - k) * ad::log1m(q);
  }
  return lp;
}

/// binomial_logit_lpmf for nested log odds.
template <bool propto = false, detail::Count N, detail::Count Trials, detail::AnyArg Alpha>
  requires detail::AnyNested<Alpha>
detail::nested_t<Alpha> binomial_logit_lpmf(const N& n, const Trials& trials, const Alpha& alpha) {
  using R = detail::nested_t<Alpha>;
  if (binomial_logit_lpmf<false>(detail::values(n), detail::values(trials), detail::values(alpha)) ==
      detail::kNestedNegInf)
    return R(detail::kNestedNegInf);
  const std::size_t size = detail::any_size(n, trials, alpha);
  R lp = 0.0;
  for (std::size_t i = 0; i < size; ++i) {
    const double k = detail::at(n, i), m = detail::at(trials, i);
    const auto& a = detail::at(alpha, i);
    if constexpr (!propto)
      lp += detail::log_factorial(m) - detail::log_factorial(k) - detail::log_factorial(m - k);
    lp += k * a - m * ad::log1p_exp(a);
  }
  return lp;
}

/// bernoulli_lpmf for a nested probability.
template <bool propto = false, detail::Count N, detail::AnyArg Theta>
  requires detail::AnyNested<Theta>
detail::nested_t<Theta> bernoulli_lpmf(const N& n, const Theta& theta) {
  using R = detail::nested_t<Theta>;
  if (bernoulli_lpmf<false>(detail::values(n), detail::values(theta)) == detail::kNestedNegInf)
    return R(detail::kNestedNegInf);
  const std::size_t size = detail::any_size(n, theta);
  R lp = 0.0;
  for (std::size_t i = 0; i < size; ++i) {
    const auto& q = detail::at(theta, i);
    lp += detail::at(n, i) == 1.0 ? ad::log(q) : ad::log1m(q);
  }
  return lp;
}

/// bernoulli_logit_lpmf for nested log odds.
template <bool propto = false, detail::Count N, detail::AnyArg Alpha>
  requires detail::AnyNested<Alpha>
detail::nested_t<Alpha> bernoulli_logit_lpmf(const N& n, const Alpha& alpha) {
  using R = detail::nested_t<Alpha>;
  if (bernoulli_logit_lpmf<false>(detail::values(n), detail::values(alpha)) == detail::kNestedNegInf)
    return R(detail::kNestedNegInf);
  const std::size_t size = detail::any_size(n, alpha);
  R lp = 0.0;
  for (std::size_t i = 0; i < size; ++i) {
    const auto& a = detail::at(alpha, i);
    // log inv_logit(+-a) = -log1p_exp(-+a).
    lp -= detail::at(n, i) == 1.0 ? ad::log1p_exp(-a) : ad::log1p_exp(a);
  }
  return lp;
}

}  // namespace nutshell::distributions

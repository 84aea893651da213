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
  return detail::nested_sum<R>(
      0.0, [](const auto&... v) { return poisson_lpmf<false>(v...); },
      [&](R& lp, std::size_t i) {
        const double k = detail::at(n, i);
        const auto& l = detail::at(lambda, i);
        if constexpr (!propto) lp -= detail::log_factorial(k);
        if (k != 0.0) lp += k * ad::log(l);
        lp -= l;
      },
      n, lambda);
}

/// poisson_log_lpmf for a nested log rate.
template <bool propto = false, detail::Count N, detail::AnyArg Alpha>
  requires detail::AnyNested<Alpha>
detail::nested_t<Alpha> poisson_log_lpmf(const N& n, const Alpha& alpha) {
  using R = detail::nested_t<Alpha>;
  return detail::nested_sum<R>(
      0.0, [](const auto&... v) { return poisson_log_lpmf<false>(v...); },
      [&](R& lp, std::size_t i) {
        const double k = detail::at(n, i);
        const auto& a = detail::at(alpha, i);
        if constexpr (!propto) lp -= detail::log_factorial(k);
        if (k != 0.0) lp += k * a;
        lp -= ad::exp(a);
      },
      n, alpha);
}

/// binomial_lpmf for a nested probability.
template <bool propto = false, detail::Count N, detail::Count Trials, detail::AnyArg Theta>
  requires detail::AnyNested<Theta>
detail::nested_t<Theta> binomial_lpmf(const N& n, const Trials& trials, const Theta& theta) {
  using R = detail::nested_t<Theta>;
  return detail::nested_sum<R>(
      0.0, [](const auto&... v) { return binomial_lpmf<false>(v...); },
      [&](R& lp, std::size_t i) {
        const double k = detail::at(n, i), m = detail::at(trials, i);
        const auto& q = detail::at(theta, i);
        if constexpr (!propto)
          lp += detail::log_factorial(m) - detail::log_factorial(k) - detail::log_factorial(m - k);
        if (k != 0.0) lp += k * ad::log(q);
        if (m - k != 0.0) lp += (m - k) * ad::log1m(q);
      },
      n, trials, theta);
}

/// binomial_logit_lpmf for nested log odds.
template <bool propto = false, detail::Count N, detail::Count Trials, detail::AnyArg Alpha>
  requires detail::AnyNested<Alpha>
detail::nested_t<Alpha> binomial_logit_lpmf(const N& n, const Trials& trials, const Alpha& alpha) {
  using R = detail::nested_t<Alpha>;
  return detail::nested_sum<R>(
      0.0, [](const auto&... v) { return binomial_logit_lpmf<false>(v...); },
      [&](R& lp, std::size_t i) {
        const double k = detail::at(n, i), m = detail::at(trials, i);
        const auto& a = detail::at(alpha, i);
        if constexpr (!propto)
          lp += detail::log_factorial(m) - detail::log_factorial(k) - detail::log_factorial(m - k);
        lp += k * a - m * ad::log1p_exp(a);
      },
      n, trials, alpha);
}

/// bernoulli_lpmf for a nested probability.
template <bool propto = false, detail::Count N, detail::AnyArg Theta>
  requires detail::AnyNested<Theta>
detail::nested_t<Theta> bernoulli_lpmf(const N& n, const Theta& theta) {
  using R = detail::nested_t<Theta>;
  return detail::nested_sum<R>(
      0.0, [](const auto&... v) { return bernoulli_lpmf<false>(v...); },
      [&](R& lp, std::size_t i) {
        const auto& q = detail::at(theta, i);
        lp += detail::at(n, i) == 1.0 ? ad::log(q) : ad::log1m(q);
      },
      n, theta);
}

/// bernoulli_logit_lpmf for nested log odds.
template <bool propto = false, detail::Count N, detail::AnyArg Alpha>
  requires detail::AnyNested<Alpha>
detail::nested_t<Alpha> bernoulli_logit_lpmf(const N& n, const Alpha& alpha) {
  using R = detail::nested_t<Alpha>;
  return detail::nested_sum<R>(
      0.0, [](const auto&... v) { return bernoulli_logit_lpmf<false>(v...); },
      [&](R& lp, std::size_t i) {
        const auto& a = detail::at(alpha, i);
        // log inv_logit(+-a) = -log1p_exp(-+a).
        lp -= detail::at(n, i) == 1.0 ? ad::log1p_exp(-a) : ad::log1p_exp(a);
      },
      n, alpha);
}

}  // namespace nutshell::distributions

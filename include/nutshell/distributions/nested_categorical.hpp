// The log masses of categorical.hpp for nested autodiff scalars
// (fvar<var>, for Hessian-vector products): categorical,
// categorical_logit, neg_binomial_2, neg_binomial_2_log. See nested.hpp and
// discrete.hpp; categorical.hpp includes this file.
#pragma once

#include <cstddef>
#include <span>

#include "nutshell/ad/dual.hpp"
#include "nutshell/ad/scalar_double.hpp"
#include "nutshell/ad/vector_ops.hpp"
#include "nutshell/distributions/categorical.hpp"
#include "nutshell/distributions/nested.hpp"

namespace nutshell::distributions {

/// categorical_lpmf for a nested probability vector.
template <bool propto = false, detail::Count N, detail::NestedVector Theta>
detail::nested_t<Theta> categorical_lpmf(const N& n, const Theta& theta) {
  using R = detail::nested_t<Theta>;
  if (detail::nested_outside_support([](const auto&... v) { return categorical_lpmf<false>(v...); },
                                     n, theta))
    return R(detail::kNestedNegInf);
  R lp = 0.0;
  const std::size_t size = detail::seq(n).size;
  for (std::size_t i = 0; i < size; ++i)
    lp += ad::log(detail::at(theta, static_cast<std::size_t>(detail::at(n, i))));
  return lp;
}

/// categorical_logit_lpmf for nested log odds.
template <bool propto = false, detail::Count N, detail::NestedVector Beta>
detail::nested_t<Beta> categorical_logit_lpmf(const N& n, const Beta& beta) {
  using R = detail::nested_t<Beta>;
  if (detail::nested_outside_support(
          [](const auto&... v) { return categorical_logit_lpmf<false>(v...); }, n, beta))
    return R(detail::kNestedNegInf);
  const std::size_t size = detail::seq(n).size;
  const std::span<const R> b(std::ranges::data(beta), std::ranges::size(beta));
  R lp = -static_cast<double>(size) * ad::log_sum_exp(b);
  for (std::size_t i = 0; i < size; ++i) lp += b[static_cast<std::size_t>(detail::at(n, i))];
  return lp;
}

/// neg_binomial_2_lpmf for a nested mean or dispersion.
template <bool propto = false, detail::Count N, detail::AnyArg Mu, detail::AnyArg Phi>
  requires detail::AnyNested<Mu, Phi>
detail::nested_t<Mu, Phi> neg_binomial_2_lpmf(const N& n, const Mu& mu, const Phi& phi) {
  using R = detail::nested_t<Mu, Phi>;
  static_assert(detail::nested_compatible<R, Mu, Phi>, "nested arguments mix only with data");
  return detail::nested_sum<R>(
      0.0, [](const auto&... v) { return neg_binomial_2_lpmf<false>(v...); },
      [&](R& lp, std::size_t i) {
        const double k = detail::at(n, i);
        const auto& m = detail::at(mu, i);
        const auto& f = detail::at(phi, i);
        if constexpr (!propto) lp -= detail::log_factorial(k);
        if constexpr (detail::nested_include<propto, Phi>) lp += ad::lgamma(k + f) - ad::lgamma(f);
        if (k != 0.0) lp += k * ad::log(m);
        lp -= k * ad::log(m + f) + f * ad::log1p(m / f);
      },
      n, mu, phi);
}

/// neg_binomial_2_log_lpmf for a nested log mean or dispersion.
template <bool propto = false, detail::Count N, detail::AnyArg Eta, detail::AnyArg Phi>
  requires detail::AnyNested<Eta, Phi>
detail::nested_t<Eta, Phi> neg_binomial_2_log_lpmf(const N& n, const Eta& eta, const Phi& phi) {
  using R = detail::nested_t<Eta, Phi>;
  static_assert(detail::nested_compatible<R, Eta, Phi>, "nested arguments mix only with data");
  return detail::nested_sum<R>(
      0.0, [](const auto&... v) { return neg_binomial_2_log_lpmf<false>(v...); },
      [&](R& lp, std::size_t i) {
        const double k = detail::at(n, i);
        const auto& e = detail::at(eta, i);
        const auto& f = detail::at(phi, i);
        const auto log_f = ad::log(f);
        // log(1 + mu / phi) = log1p_exp(eta - log phi), as the fast path.
        const auto l = ad::log1p_exp(e - log_f);
        if constexpr (!propto) lp -= detail::log_factorial(k);
        if constexpr (detail::nested_include<propto, Phi>) lp += ad::lgamma(k + f) - ad::lgamma(f);
        lp += k * e - k * (log_f + l) - f * l;
      },
      n, eta, phi);
}

}  // namespace nutshell::distributions

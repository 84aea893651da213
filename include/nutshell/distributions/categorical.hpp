// Log probability mass functions of the categorical and negative binomial
// families: categorical, categorical_logit, neg_binomial_2 (mean and
// dispersion) and neg_binomial_2_log. Conventions as in discrete.hpp.
//
// Categories are 0-based (as nutshell's `categorical` draw and C++ indexing;
// Stan's are 1-based): n in [0, K) for a probability vector of size K.
#pragma once

#include <cmath>
#include <string>

#include "nutshell/ad/scalar_double.hpp"
#include "nutshell/distributions/discrete.hpp"
#include "nutshell/distributions/vectorise.hpp"

namespace nutshell::distributions {

/// log Categorical(n | theta) = sum_i log theta[n_i] for one 0-based
/// category or a vector of them; theta is a simplex of size K (entries in
/// [0, 1] summing to 1 within 1e-8, else domain_error); a category outside
/// [0, K) gives -infinity.
template <bool propto = false, detail::Count N, detail::Vector Theta>
detail::return_t<Theta> categorical_lpmf(const N& n, const Theta& theta) {
  constexpr const char* fn = "categorical_lpmf";
  const auto ns = detail::seq(n);
  const auto ts = detail::seq(theta);
  detail::check_simplex(fn, theta, [](const auto& t) { return detail::to_double(t); });
  const double k_max = static_cast<double>(ts.size);
  for (std::size_t i = 0; i < ns.size; ++i)
    if (ns[i] < 0.0 || ns[i] >= k_max || ts[static_cast<std::size_t>(ns[i])] == 0.0)
      return detail::constant<Theta>(detail::kNegInf);
  if constexpr (!detail::include<propto, Theta>) {
    return 0.0;
  } else {
    detail::Partials<N, Theta> p(n, theta);
    double lp = 0.0;
    for (std::size_t i = 0; i < ns.size; ++i) {
      const auto k = static_cast<std::size_t>(ns[i]);
      lp += std::log(ts[k]);
      p.template add<1>(k, 1.0 / ts[k]);
    }
    return p.build(lp, n, theta);
  }
}

/// log Categorical(n | softmax(beta)) = sum_i (beta[n_i] - log_sum_exp(beta))
/// for 0-based categories n; beta finite; a category outside [0, K) gives
/// -infinity.
template <bool propto = false, detail::Count N, detail::Vector Beta>
detail::return_t<Beta> categorical_logit_lpmf(const N& n, const Beta& beta) {
  constexpr const char* fn = "categorical_logit_lpmf";
  const auto ns = detail::seq(n);
  const auto bs = detail::seq(beta);
  if (bs.size == 0) detail::throw_size(fn, "the log odds vector is empty");
  detail::check_location(fn, bs, "log odds");
  const double k_max = static_cast<double>(bs.size);
  for (std::size_t i = 0; i < ns.size; ++i)
    if (ns[i] < 0.0 || ns[i] >= k_max) return detail::constant<Beta>(detail::kNegInf);
  if constexpr (!detail::include<propto, Beta>) {
    return 0.0;
  } else {
    detail::Partials<N, Beta> p(n, beta);
    double m = bs[0];
    for (std::size_t k = 1; k < bs.size; ++k) m = std::max(m, bs[k]);
    double total = 0.0;
    for (std::size_t k = 0; k < bs.size; ++k) total += std::exp(bs[k] - m);
    const double lse = m + std::log(total), count = static_cast<double>(ns.size);
    double lp = -count * lse;
    for (std::size_t i = 0; i < ns.size; ++i) {
      const auto k = static_cast<std::size_t>(ns[i]);
      lp += bs[k];
      p.template add<1>(k, 1.0);
    }
    if constexpr (detail::is_var_arg<Beta>)
      for (std::size_t k = 0; k < bs.size; ++k) p.template add<1>(k, -count * std::exp(bs[k] - lse));
    return p.build(lp, n, beta);
  }
}

/// log NegBinomial2(n | mu, phi): mean mu, variance mu + mu^2 / phi;
/// = lgamma(n + phi) - lgamma(phi) - log n! + n log mu - n log(mu + phi)
///   - phi log(1 + mu / phi).
/// mu > 0 and phi > 0 finite; n < 0 gives -infinity.
template <bool propto = false, detail::Count N, detail::Arg Mu, detail::Arg Phi>
detail::return_t<Mu, Phi> neg_binomial_2_lpmf(const N& n, const Mu& mu, const Phi& phi) {
  constexpr const char* fn = "neg_binomial_2_lpmf";
  const auto ns = detail::seq(n);
  const auto ms = detail::seq(mu);
  const auto fs = detail::seq(phi);
  const std::size_t size = detail::broadcast_size(fn, ns, ms, fs);
  detail::check_scale(fn, ms, "location");
  detail::check_scale(fn, fs, "precision");
  for (std::size_t i = 0; i < size; ++i)
    if (ns[i] < 0.0) return detail::constant<Mu, Phi>(detail::kNegInf);
  if constexpr (!detail::include<propto, Mu, Phi>) {
    return 0.0;
  } else {
    detail::Partials<N, Mu, Phi> p(n, mu, phi);
    double lp = 0.0;
    for (std::size_t i = 0; i < size; ++i) {
      const double k = ns[i], m = ms[i], f = fs[i];
      const double log1p_m_over_f = std::log1p(m / f), log_m_plus_f = std::log(m + f);
      if constexpr (!propto) lp -= detail::log_factorial(k);
      if constexpr (detail::include<propto, Phi>) lp += ad::lgamma(k + f) - ad::lgamma(f);
      lp += detail::multiply_log(k, m) - k * log_m_plus_f - f * log1p_m_over_f;
      p.template add<1>(i, (k == 0.0 ? 0.0 : k / m) - (k + f) / (m + f));
      if constexpr (detail::is_var_arg<Phi>)
        p.template add<2>(i, ad::digamma(k + f) - ad::digamma(f) - log1p_m_over_f + (m - k) / (m + f));
    }
    return p.build(lp, n, mu, phi);
  }
}

/// log NegBinomial2(n | exp(eta), phi), stable in the log mean eta (finite);
/// phi > 0 finite; n < 0 gives -infinity.
template <bool propto = false, detail::Count N, detail::Arg Eta, detail::Arg Phi>
detail::return_t<Eta, Phi> neg_binomial_2_log_lpmf(const N& n, const Eta& eta, const Phi& phi) {
  constexpr const char* fn = "neg_binomial_2_log_lpmf";
  const auto ns = detail::seq(n);
  const auto es = detail::seq(eta);
  const auto fs = detail::seq(phi);
  const std::size_t size = detail::broadcast_size(fn, ns, es, fs);
  detail::check_location(fn, es, "log location");
  detail::check_scale(fn, fs, "precision");
  for (std::size_t i = 0; i < size; ++i)
    if (ns[i] < 0.0) return detail::constant<Eta, Phi>(detail::kNegInf);
  if constexpr (!detail::include<propto, Eta, Phi>) {
    return 0.0;
  } else {
    detail::Partials<N, Eta, Phi> p(n, eta, phi);
    double lp = 0.0;
    for (std::size_t i = 0; i < size; ++i) {
      const double k = ns[i], e = es[i], f = fs[i], log_f = std::log(f);
      // With x = eta - log phi: log(1 + mu/phi) = log1p_exp(x), mu / (mu + phi)
      // = inv_logit(x), log(mu + phi) = log phi + log1p_exp(x).
      double l, q;
      detail::log1p_exp_and_inv_logit(e - log_f, l, q);
      if constexpr (!propto) lp -= detail::log_factorial(k);
      if constexpr (detail::include<propto, Phi>) lp += ad::lgamma(k + f) - ad::lgamma(f);
      lp += k * e - k * (log_f + l) - f * l;
      p.template add<1>(i, k - (k + f) * q);
      if constexpr (detail::is_var_arg<Phi>)
        p.template add<2>(i, ad::digamma(k + f) - ad::digamma(f) - l + q - k / f * (1.0 - q));
    }
    return p.build(lp, n, eta, phi);
  }
}

}  // namespace nutshell::distributions

// The same densities for nested autodiff scalars (Hessian-vector products).
#include "nutshell/distributions/nested_categorical.hpp"  // IWYU pragma: export

// Log probability mass functions of the count and binary families: poisson,
// poisson_log, binomial, binomial_logit, bernoulli, bernoulli_logit.
//
// Counts are integers (a scalar or a vector of any integer type); the
// parameters are scalars or vectors of double or ad::var, broadcast as in
// continuous.hpp, with ONE tape node per call (so a logistic regression's
// `bernoulli_logit_lpmf(y, eta)` over a thousand observations records one
// node). Errors: an invalid parameter (rate < 0, probability outside [0, 1],
// number of trials < 0, NaN) throws std::domain_error; a count outside the
// support (negative, above the number of trials, not 0/1 for bernoulli)
// gives -infinity.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <type_traits>

#include "nutshell/ad/scalar_double.hpp"
#include "nutshell/ad/vector_kernels.hpp"
#include "nutshell/distributions/continuous.hpp"
#include "nutshell/distributions/vectorise.hpp"

namespace nutshell::distributions {

namespace detail {
/// An integer count argument: a scalar or vector of an integer type.
template <class A>
concept Count = Arg<A> && std::is_integral_v<element_t<A>>;

/// log(n!) (with the thread-safe lgamma).
inline double log_factorial(double n) { return ad::lgamma(n + 1.0); }

/// n log(x) with 0 log 0 = 0 (the value at a probability of 0 or 1).
inline double multiply_log(double n, double x) { return n == 0.0 ? 0.0 : n * std::log(x); }

/// log(1 + exp(x)) and inv_logit(x) = 1 / (1 + exp(-x)) from one exp.
inline void log1p_exp_and_inv_logit(double x, double& l, double& p) {
  const double e = std::exp(-std::abs(x));
  l = (x > 0.0 ? x : 0.0) + std::log1p(e);
  p = x >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
}
}  // namespace detail

/// log Poisson(n | lambda) = n log lambda - lambda - log n!; n < 0 gives
/// -infinity. lambda >= 0 finite (lambda = 0 puts all mass on n = 0).
template <bool propto = false, detail::Count N, detail::Arg Lambda>
detail::return_t<Lambda> poisson_lpmf(const N& n, const Lambda& lambda) {
  constexpr const char* fn = "poisson_lpmf";
  const auto ns = detail::seq(n);
  const auto ls = detail::seq(lambda);
  const std::size_t size = detail::broadcast_size(fn, ns, ls);
  detail::for_each_value(ls, [](double v) { detail::check_nonnegative_finite(fn, "rate", v); });
  for (std::size_t i = 0; i < size; ++i)
    if (ns[i] < 0.0 || (ls[i] == 0.0 && ns[i] > 0.0)) return detail::constant<Lambda>(detail::kNegInf);
  if constexpr (!detail::include<propto, Lambda>) {
    return 0.0;
  } else {
    detail::Partials<N, Lambda> p(n, lambda);
    double lp = 0.0;
    for (std::size_t i = 0; i < size; ++i) {
      const double k = ns[i], l = ls[i];
      if constexpr (!propto) lp -= detail::log_factorial(k);
      lp += detail::multiply_log(k, l) - l;
      p.template add<1>(i, (k == 0.0 ? 0.0 : k / l) - 1.0);
    }
    return p.build(lp, n, lambda);
  }
}

/// log Poisson(n | exp(alpha)) = n alpha - exp(alpha) - log n!, stable for a
/// log rate alpha (not NaN; -infinity is a rate of 0).
template <bool propto = false, detail::Count N, detail::Arg Alpha>
detail::return_t<Alpha> poisson_log_lpmf(const N& n, const Alpha& alpha) {
  constexpr const char* fn = "poisson_log_lpmf";
  const auto ns = detail::seq(n);
  const auto as = detail::seq(alpha);
  const std::size_t size = detail::broadcast_size(fn, ns, as);
  detail::for_each_value(as, [](double v) { detail::check_not_nan(fn, "log rate", v); });
  for (std::size_t i = 0; i < size; ++i)
    if (ns[i] < 0.0 || as[i] == INFINITY || (as[i] == -INFINITY && ns[i] > 0.0))
      return detail::constant<Alpha>(detail::kNegInf);
  if constexpr (!detail::include<propto, Alpha>) {
    return 0.0;
  } else {
    detail::Partials<N, Alpha> p(n, alpha);
    double lp = 0.0;
    for (std::size_t i = 0; i < size; ++i) {
      const double k = ns[i], a = as[i], rate = std::exp(a);
      if constexpr (!propto) lp -= detail::log_factorial(k);
      lp += (k == 0.0 ? 0.0 : k * a) - rate;
      p.template add<1>(i, k - rate);
    }
    return p.build(lp, n, alpha);
  }
}

/// log Binomial(n | trials, theta) = log C(trials, n) + n log theta
/// + (trials - n) log(1 - theta); n outside [0, trials] gives -infinity.
/// trials >= 0 (else domain_error), theta in [0, 1].
template <bool propto = false, detail::Count N, detail::Count Trials, detail::Arg Theta>
detail::return_t<Theta> binomial_lpmf(const N& n, const Trials& trials, const Theta& theta) {
  constexpr const char* fn = "binomial_lpmf";
  const auto ns = detail::seq(n);
  const auto ts = detail::seq(trials);
  const auto ps = detail::seq(theta);
  const std::size_t size = detail::broadcast_size(fn, ns, ts, ps);
  detail::for_each_value(ts, [](double v) { detail::check_nonnegative_count(fn, "number of trials", static_cast<long long>(v)); });
  detail::for_each_value(ps, [](double v) { detail::check_probability(fn, "probability", v); });
  for (std::size_t i = 0; i < size; ++i) {
    const double k = ns[i], m = ts[i], q = ps[i];
    if (k < 0.0 || k > m || (q == 0.0 && k > 0.0) || (q == 1.0 && k < m))
      return detail::constant<Theta>(detail::kNegInf);
  }
  if constexpr (!detail::include<propto, Theta>) {
    return 0.0;
  } else {
    detail::Partials<N, Trials, Theta> p(n, trials, theta);
    double lp = 0.0;
    for (std::size_t i = 0; i < size; ++i) {
      const double k = ns[i], m = ts[i], q = ps[i];
      if constexpr (!propto)
        lp += detail::log_factorial(m) - detail::log_factorial(k) - detail::log_factorial(m - k);
      lp += detail::multiply_log(k, q) + detail::multiply_log(m - k, 1.0 - q);
      p.template add<2>(i, (k == 0.0 ? 0.0 : k / q) - (m - k == 0.0 ? 0.0 : (m - k) / (1.0 - q)));
    }
    return p.build(lp, n, trials, theta);
  }
}

/// log Binomial(n | trials, inv_logit(alpha)), stable in the log odds alpha
/// (finite); n outside [0, trials] gives -infinity.
template <bool propto = false, detail::Count N, detail::Count Trials, detail::Arg Alpha>
detail::return_t<Alpha> binomial_logit_lpmf(const N& n, const Trials& trials, const Alpha& alpha) {
  constexpr const char* fn = "binomial_logit_lpmf";
  const auto ns = detail::seq(n);
  const auto ts = detail::seq(trials);
  const auto as = detail::seq(alpha);
  const std::size_t size = detail::broadcast_size(fn, ns, ts, as);
  detail::for_each_value(ts, [](double v) { detail::check_nonnegative_count(fn, "number of trials", static_cast<long long>(v)); });
  detail::check_location(fn, as, "log odds");
  for (std::size_t i = 0; i < size; ++i)
    if (ns[i] < 0.0 || ns[i] > ts[i]) return detail::constant<Alpha>(detail::kNegInf);
  if constexpr (!detail::include<propto, Alpha>) {
    return 0.0;
  } else {
    detail::Partials<N, Trials, Alpha> p(n, trials, alpha);
    double lp = 0.0;
    for (std::size_t i = 0; i < size; ++i) {
      const double k = ns[i], m = ts[i], a = as[i];
      if constexpr (!propto)
        lp += detail::log_factorial(m) - detail::log_factorial(k) - detail::log_factorial(m - k);
      // log inv_logit(a) = a - log1p_exp(a), log(1 - inv_logit(a)) = -log1p_exp(a).
      double l, prob;
      detail::log1p_exp_and_inv_logit(a, l, prob);
      lp += k * a - m * l;
      p.template add<2>(i, k - m * prob);
    }
    return p.build(lp, n, trials, alpha);
  }
}

/// log Bernoulli(n | theta) = log theta for n = 1, log(1 - theta) for n = 0;
/// any other n gives -infinity. theta in [0, 1].
template <bool propto = false, detail::Count N, detail::Arg Theta>
detail::return_t<Theta> bernoulli_lpmf(const N& n, const Theta& theta) {
  constexpr const char* fn = "bernoulli_lpmf";
  const auto ns = detail::seq(n);
  const auto ps = detail::seq(theta);
  const std::size_t size = detail::broadcast_size(fn, ns, ps);
  detail::for_each_value(ps, [](double v) { detail::check_probability(fn, "probability", v); });
  for (std::size_t i = 0; i < size; ++i) {
    const double k = ns[i], q = ps[i];
    if (!(k == 0.0 || k == 1.0) || (k == 1.0 && q == 0.0) || (k == 0.0 && q == 1.0))
      return detail::constant<Theta>(detail::kNegInf);
  }
  if constexpr (!detail::include<propto, Theta>) {
    return 0.0;
  } else {
    detail::Partials<N, Theta> p(n, theta);
    double lp = 0.0;
    if (!ps.is_vector) {
      // One theta: count the ones, two logs in all.
      double ones = 0.0;
      for (std::size_t i = 0; i < size; ++i) ones += ns[i];
      const double zeros = static_cast<double>(size) - ones, q = ps[0];
      lp = detail::multiply_log(ones, q) + detail::multiply_log(zeros, 1.0 - q);
      p.template add<1>(0, (ones == 0.0 ? 0.0 : ones / q) - (zeros == 0.0 ? 0.0 : zeros / (1.0 - q)));
    } else {
      for (std::size_t i = 0; i < size; ++i) {
        const double q = ps[i];
        const bool one = ns[i] == 1.0;
        lp += one ? std::log(q) : std::log1p(-q);
        p.template add<1>(i, one ? 1.0 / q : -1.0 / (1.0 - q));
      }
    }
    return p.build(lp, n, theta);
  }
}

/// log Bernoulli(n | inv_logit(alpha)), stable in the log odds alpha (not
/// NaN); n other than 0 and 1 gives -infinity. The likelihood of a logistic
/// regression: `bernoulli_logit_lpmf(y, eta)` is one node over all of eta.
template <bool propto = false, detail::Count N, detail::Arg Alpha>
detail::return_t<Alpha> bernoulli_logit_lpmf(const N& n, const Alpha& alpha) {
  constexpr const char* fn = "bernoulli_logit_lpmf";
  const auto ns = detail::seq(n);
  const auto as = detail::seq(alpha);
  const std::size_t size = detail::broadcast_size(fn, ns, as);
  detail::for_each_value(as, [](double v) { detail::check_not_nan(fn, "log odds", v); });
  for (std::size_t i = 0; i < size; ++i)
    if (!(ns[i] == 0.0 || ns[i] == 1.0)) return detail::constant<Alpha>(detail::kNegInf);
  if constexpr (!detail::include<propto, Alpha>) {
    return 0.0;
  } else {
    detail::Partials<N, Alpha> p(n, alpha);
    double lp = 0.0;
    // With s = 2n - 1: log p = -log1p_exp(-s a), d/da = s inv_logit(-s a).
    // In chunks on the stack through ad's SIMD kernel (nothing allocated).
    constexpr std::size_t kChunk = 256;
    std::array<double, kChunk> t, d;
    for (std::size_t start = 0; start < size; start += kChunk) {
      const std::size_t len = std::min(kChunk, size - start);
      for (std::size_t j = 0; j < len; ++j)
        t[j] = ns[start + j] == 1.0 ? -as[start + j] : as[start + j];
      lp -= ad::kernels::sum_log1p_exp(t.data(), len, detail::is_var_arg<Alpha> ? d.data() : nullptr);
      if constexpr (detail::is_var_arg<Alpha>)
        for (std::size_t j = 0; j < len; ++j)
          p.template add<1>(start + j, ns[start + j] == 1.0 ? d[j] : -d[j]);
    }
    return p.build(lp, n, alpha);
  }
}

}  // namespace nutshell::distributions

// The same densities for nested autodiff scalars (Hessian-vector products).
#include "nutshell/distributions/nested_discrete.hpp"  // IWYU pragma: export

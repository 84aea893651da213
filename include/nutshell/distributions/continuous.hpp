// Log densities of the continuous families on the real line: normal,
// student_t, cauchy, lognormal, uniform. (Positive and unit-interval
// families are in continuous_positive.hpp.)
//
// Every argument may be a scalar or a vector (std::span, std::vector, ...)
// of double or ad::var; vectors are broadcast against scalars and the result
// is the sum over elements, recorded as ONE tape node (vectorise.hpp).
// `propto = true` drops every term that depends on no var argument (Stan's
// `~` statement); with only double arguments it then returns 0.
// Errors (checks.hpp): an invalid parameter throws std::domain_error; a
// variate outside the support gives -infinity; a NaN variate throws.
#pragma once

#include <cmath>
#include <limits>
#include <numbers>

#include "nutshell/ad/scalar_double.hpp"
#include "nutshell/distributions/checks.hpp"
#include "nutshell/distributions/vectorise.hpp"

namespace nutshell::distributions {

namespace detail {
inline constexpr double kLogSqrtTwoPi = 0.91893853320467274178;  // log(sqrt(2 pi))
inline constexpr double kLogPi = 1.14472988584940017414;         // log(pi)
inline constexpr double kNegInf = -std::numeric_limits<double>::infinity();

// Each check first folds a branch-free test over all elements (explicit SIMD,
// ad/vector_kernels.hpp, when the values are contiguous doubles: data, or a
// var vector's gathered values), and only when that fails walks the elements
// again to throw, naming the first bad one: the checks run on every
// gradient, so their common case must be cheap. Short vectors (fewer than
// kSimdCheckMin elements: funnel_10's 10, eight schools' 8) take the inline
// scalar fold: the out-of-line SIMD call cost more than it saved there.
inline constexpr std::size_t kSimdCheckMin = 16;
template <class A>
[[gnu::always_inline]] inline void check_variate(const char* fn, const Seq<A>& s) {
  bool ok = true;
  if (const double* c = s.contiguous(); c && s.size >= kSimdCheckMin)
    ok = ad::kernels::none_nan(c, s.size);
  else
    for (std::size_t i = 0; i < s.size; ++i) ok &= !std::isnan(s.val(i));
  if (!ok) [[unlikely]]
    for_each_value(s, [fn](double v) { check_not_nan(fn, "random variable", v); });
}
template <class A>
[[gnu::always_inline]] inline void check_location(const char* fn, const Seq<A>& s,
                                                  const char* name = "location") {
  bool ok = true;
  if (const double* c = s.contiguous(); c && s.size >= kSimdCheckMin)
    ok = ad::kernels::all_finite(c, s.size);
  else
    for (std::size_t i = 0; i < s.size; ++i) ok &= std::abs(s.val(i)) <= std::numeric_limits<double>::max();
  if (!ok) [[unlikely]]
    for_each_value(s, [fn, name](double v) { check_finite(fn, name, v); });
}
template <class A>
[[gnu::always_inline]] inline void check_scale(const char* fn, const Seq<A>& s, const char* name = "scale") {
  bool ok = true;
  if (const double* c = s.contiguous(); c && s.size >= kSimdCheckMin) {
    ok = ad::kernels::all_positive_finite(c, s.size);
  } else {
    for (std::size_t i = 0; i < s.size; ++i) {
      const double v = s.val(i);
      ok &= (v > 0.0) & (v <= std::numeric_limits<double>::max());
    }
  }
  if (!ok) [[unlikely]]
    for_each_value(s, [fn, name](double v) { check_positive_finite(fn, name, v); });
}
}  // namespace detail

/// log Normal(y | mu, sigma) = -((y - mu) / sigma)^2 / 2 - log sigma
/// - log sqrt(2 pi). mu finite, sigma > 0 finite (else domain_error).
template <bool propto = false, detail::Arg Y, detail::Arg Mu, detail::Arg Sigma>
detail::return_t<Y, Mu, Sigma> normal_lpdf(const Y& y, const Mu& mu, const Sigma& sigma) {
  constexpr const char* fn = "normal_lpdf";
  const auto ys = detail::seq(y);
  const auto ms = detail::seq(mu);
  const auto ss = detail::seq(sigma);
  const std::size_t n = detail::broadcast_size(fn, ys, ms, ss);
  detail::check_variate(fn, ys);
  detail::check_location(fn, ms);
  detail::check_scale(fn, ss);
  if constexpr (!detail::include<propto, Y, Mu, Sigma>) {
    return 0.0;
  } else {
    detail::Partials<Y, Mu, Sigma> p(y, mu, sigma);
    double quad = 0.0, log_sigma = 0.0;
    const double s0 = ss.is_vector ? 1.0 : ss[0];  // unused for a vector sigma
    if constexpr (detail::include<propto, Sigma>)
      log_sigma = ss.is_vector ? detail::sum_log(ss, n) : static_cast<double>(n) * (s0 == 1.0 ? 0.0 : std::log(s0));
    // A scalar var mu or sigma gets the sum over elements of its partials.
    // Added element by element (`add`), that sum is a store and a reload of
    // one arena double per element, a dependent chain through memory that
    // was most of funnel_10's normal_lpdf (perf); here it is summed in
    // registers and added once: d/dmu = sum z / s, d/dsigma = (sum z^2 - n) / s.
    constexpr bool kSumMu = !detail::Seq<Mu>::is_vector && detail::is_var_arg<Mu>;
    constexpr bool kSumSigma = !detail::Seq<Sigma>::is_vector && detail::is_var_arg<Sigma>;
    auto term = [&](std::size_t i, double& zsum) {
      const double s = ss.is_vector ? ss[i] : s0;
      const double inv_s = 1.0 / s;
      const double z = (ys[i] - ms[i]) * inv_s;
      p.template add<0>(i, -z * inv_s);
      if constexpr (kSumMu)
        zsum += z;
      else
        p.template add<1>(i, z * inv_s);
      if constexpr (!kSumSigma) p.template add<2>(i, (z * z - 1.0) * inv_s);
      return z * z;
    };
    // Four running sums of z^2: one sum is a chain of dependent additions,
    // which bounded the loop on long vectors (gauss_100).
    double q0 = 0.0, q1 = 0.0, q2 = 0.0, q3 = 0.0;
    double z0 = 0.0, z1 = 0.0, z2 = 0.0, z3 = 0.0;
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4) {
      q0 += term(i, z0);
      q1 += term(i + 1, z1);
      q2 += term(i + 2, z2);
      q3 += term(i + 3, z3);
    }
    for (; i < n; ++i) q0 += term(i, z0);
    quad = (q0 + q1) + (q2 + q3);
    if constexpr (kSumMu) p.template add<1>(0, ((z0 + z1) + (z2 + z3)) / s0);
    if constexpr (kSumSigma) p.template add<2>(0, (quad - static_cast<double>(n)) / s0);
    double lp = -0.5 * quad - log_sigma;
    if constexpr (!propto) lp -= static_cast<double>(n) * detail::kLogSqrtTwoPi;
    return p.build(lp, y, mu, sigma);
  }
}

/// log Student-t(y | nu, mu, sigma) = lgamma((nu+1)/2) - lgamma(nu/2)
/// - log(nu pi)/2 - log sigma - (nu+1)/2 log(1 + z^2/nu), z = (y-mu)/sigma.
/// nu > 0 finite, mu finite, sigma > 0 finite.
template <bool propto = false, detail::Arg Y, detail::Arg Nu, detail::Arg Mu, detail::Arg Sigma>
detail::return_t<Y, Nu, Mu, Sigma> student_t_lpdf(const Y& y, const Nu& nu, const Mu& mu,
                                                  const Sigma& sigma) {
  constexpr const char* fn = "student_t_lpdf";
  const auto ys = detail::seq(y);
  const auto ns = detail::seq(nu);
  const auto ms = detail::seq(mu);
  const auto ss = detail::seq(sigma);
  const std::size_t n = detail::broadcast_size(fn, ys, ns, ms, ss);
  detail::check_variate(fn, ys);
  detail::check_scale(fn, ns, "degrees of freedom");
  detail::check_location(fn, ms);
  detail::check_scale(fn, ss);
  if constexpr (!detail::include<propto, Y, Nu, Mu, Sigma>) {
    return 0.0;
  } else {
    detail::Partials<Y, Nu, Mu, Sigma> p(y, nu, mu, sigma);
    double lp = 0.0;
    // The special functions of nu, recomputed only when nu changes (once
    // for a scalar nu).
    double last_v = std::numeric_limits<double>::quiet_NaN(), lg = 0.0, dg = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      const double v = ns[i], s = ss[i], inv_s = 1.0 / s;
      const double z = (ys[i] - ms[i]) * inv_s;
      const double z2 = z * z;
      const double log1p_r = std::log1p(z2 / v);
      if (v != last_v) {
        last_v = v;
        if constexpr (detail::include<propto, Nu>)
          lg = ad::lgamma(0.5 * (v + 1.0)) - ad::lgamma(0.5 * v) - 0.5 * std::log(v);
        if constexpr (detail::is_var_arg<Nu>) dg = ad::digamma(0.5 * (v + 1.0)) - ad::digamma(0.5 * v) - 1.0 / v;
      }
      if constexpr (detail::include<propto, Nu>) lp += lg;
      if constexpr (detail::include<propto, Sigma>) lp -= std::log(s);
      lp -= 0.5 * (v + 1.0) * log1p_r;
      // d/dz of the kernel is -(nu + 1) z / (nu + z^2).
      const double dz = -(v + 1.0) * z / (v + z2);
      p.template add<0>(i, dz * inv_s);
      p.template add<2>(i, -dz * inv_s);
      p.template add<3>(i, (-1.0 - dz * z) * inv_s);
      if constexpr (detail::is_var_arg<Nu>)
        p.template add<1>(i, 0.5 * (dg - log1p_r + (v + 1.0) * z2 / (v * (v + z2))));
    }
    if constexpr (!propto) lp -= 0.5 * static_cast<double>(n) * detail::kLogPi;
    return p.build(lp, y, nu, mu, sigma);
  }
}

/// log Cauchy(y | mu, sigma) = -log pi - log sigma - log(1 + z^2).
/// mu finite, sigma > 0 finite.
template <bool propto = false, detail::Arg Y, detail::Arg Mu, detail::Arg Sigma>
detail::return_t<Y, Mu, Sigma> cauchy_lpdf(const Y& y, const Mu& mu, const Sigma& sigma) {
  constexpr const char* fn = "cauchy_lpdf";
  const auto ys = detail::seq(y);
  const auto ms = detail::seq(mu);
  const auto ss = detail::seq(sigma);
  const std::size_t n = detail::broadcast_size(fn, ys, ms, ss);
  detail::check_variate(fn, ys);
  detail::check_location(fn, ms);
  detail::check_scale(fn, ss);
  if constexpr (!detail::include<propto, Y, Mu, Sigma>) {
    return 0.0;
  } else {
    detail::Partials<Y, Mu, Sigma> p(y, mu, sigma);
    double lp = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      const double s = ss[i], inv_s = 1.0 / s;
      const double z = (ys[i] - ms[i]) * inv_s;
      if constexpr (detail::include<propto, Sigma>) lp -= std::log(s);
      lp -= std::log1p(z * z);
      const double dz = -2.0 * z / (1.0 + z * z);
      p.template add<0>(i, dz * inv_s);
      p.template add<1>(i, -dz * inv_s);
      p.template add<2>(i, (-1.0 - dz * z) * inv_s);
    }
    if constexpr (!propto) lp -= static_cast<double>(n) * detail::kLogPi;
    return p.build(lp, y, mu, sigma);
  }
}

/// log LogNormal(y | mu, sigma) = -z^2/2 - log sigma - log y - log sqrt(2 pi),
/// z = (log y - mu) / sigma; y <= 0 gives -infinity. mu finite, sigma > 0.
template <bool propto = false, detail::Arg Y, detail::Arg Mu, detail::Arg Sigma>
detail::return_t<Y, Mu, Sigma> lognormal_lpdf(const Y& y, const Mu& mu, const Sigma& sigma) {
  constexpr const char* fn = "lognormal_lpdf";
  const auto ys = detail::seq(y);
  const auto ms = detail::seq(mu);
  const auto ss = detail::seq(sigma);
  const std::size_t n = detail::broadcast_size(fn, ys, ms, ss);
  detail::check_variate(fn, ys);
  detail::check_location(fn, ms);
  detail::check_scale(fn, ss);
  for (std::size_t i = 0; i < n; ++i)
    if (!(ys[i] > 0.0)) return detail::constant<Y, Mu, Sigma>(detail::kNegInf);
  if constexpr (!detail::include<propto, Y, Mu, Sigma>) {
    return 0.0;
  } else {
    detail::Partials<Y, Mu, Sigma> p(y, mu, sigma);
    double lp = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      const double s = ss[i], inv_s = 1.0 / s, yv = ys[i], log_y = std::log(yv);
      const double z = (log_y - ms[i]) * inv_s;
      lp -= 0.5 * z * z;
      if constexpr (detail::include<propto, Sigma>) lp -= std::log(s);
      if constexpr (detail::include<propto, Y>) lp -= log_y;
      p.template add<0>(i, -(1.0 + z * inv_s) / yv);
      p.template add<1>(i, z * inv_s);
      p.template add<2>(i, (z * z - 1.0) * inv_s);
    }
    if constexpr (!propto) lp -= static_cast<double>(n) * detail::kLogSqrtTwoPi;
    return p.build(lp, y, mu, sigma);
  }
}

/// log Uniform(y | lo, hi) = -log(hi - lo) for lo <= y <= hi, else -infinity.
/// lo, hi finite with lo < hi.
template <bool propto = false, detail::Arg Y, detail::Arg Lo, detail::Arg Hi>
detail::return_t<Y, Lo, Hi> uniform_lpdf(const Y& y, const Lo& lo, const Hi& hi) {
  constexpr const char* fn = "uniform_lpdf";
  const auto ys = detail::seq(y);
  const auto ls = detail::seq(lo);
  const auto hs = detail::seq(hi);
  const std::size_t n = detail::broadcast_size(fn, ys, ls, hs);
  detail::check_variate(fn, ys);
  detail::check_location(fn, ls, "lower bound");
  detail::check_location(fn, hs, "upper bound");
  for (std::size_t i = 0; i < n; ++i)
    if (!(ls[i] < hs[i])) detail::throw_domain(fn, "lower bound", ls[i], "must be below the upper bound");
  for (std::size_t i = 0; i < n; ++i)
    if (ys[i] < ls[i] || ys[i] > hs[i]) return detail::constant<Y, Lo, Hi>(detail::kNegInf);
  if constexpr (!detail::include<propto, Lo, Hi>) {
    return 0.0;
  } else {
    detail::Partials<Y, Lo, Hi> p(y, lo, hi);
    double lp = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      const double w = hs[i] - ls[i];
      lp -= std::log(w);
      p.template add<1>(i, 1.0 / w);
      p.template add<2>(i, -1.0 / w);
    }
    return p.build(lp, y, lo, hi);
  }
}

}  // namespace nutshell::distributions

// The same densities for nested autodiff scalars (Hessian-vector products).
#include "nutshell/distributions/nested_continuous.hpp"  // IWYU pragma: export

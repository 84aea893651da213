// multi_normal_cholesky and lkj_corr_cholesky for nested autodiff scalars
// (fvar<var>, for Hessian-vector products), written out in the ad:: scalar
// math (see nested.hpp); conventions as in multivariate.hpp.
#pragma once

#include <cstddef>
#include <numbers>

#include "nutshell/ad/dual.hpp"
#include "nutshell/ad/matrix_view.hpp"
#include "nutshell/ad/scalar_double.hpp"
#include "nutshell/distributions/multivariate.hpp"
#include "nutshell/distributions/nested.hpp"

namespace nutshell::distributions {

/// multi_normal_cholesky_lpdf when y, mu or L is nested.
template <bool propto = false, detail::AnyArg Y, detail::AnyArg Mu, detail::AnyArg LT>
  requires((detail::Vector<Y> || detail::NestedVector<Y>) &&
           (detail::Vector<Mu> || detail::NestedVector<Mu>) &&
           (detail::Vector<LT> || detail::NestedVector<LT>) && detail::AnyNested<Y, Mu, LT>)
detail::nested_t<Y, Mu, LT> multi_normal_cholesky_lpdf(const Y& y, const Mu& mu, const LT& L) {
  using R = detail::nested_t<Y, Mu, LT>;
  static_assert(detail::nested_compatible<R, Y, Mu, LT>, "nested arguments mix only with data");
  multi_normal_cholesky_lpdf<false>(detail::values(y), detail::values(mu), detail::values(L));
  const std::size_t d = detail::square_dim("multi_normal_cholesky_lpdf", std::ranges::size(L));
  const std::size_t m = std::ranges::size(y) / d;
  const bool mu_per_row = std::ranges::size(mu) != d;
  std::span<R> z = ad::arena_vector<R>(d);
  R lp = 0.0;
  for (std::size_t r = 0; r < m; ++r) {
    const std::size_t row = r * d, mrow = mu_per_row ? row : 0;
    for (std::size_t i = 0; i < d; ++i) {  // z = L^{-1} (y - mu)
      R acc = detail::at(y, row + i) - detail::at(mu, mrow + i);
      for (std::size_t j = 0; j < i; ++j) acc -= detail::at(L, i * d + j) * z[j];
      z[i] = acc / detail::at(L, i * d + i);
      lp -= 0.5 * (z[i] * z[i]);
    }
  }
  if constexpr (detail::nested_include<propto, LT>)
    for (std::size_t i = 0; i < d; ++i) lp -= static_cast<double>(m) * ad::log(detail::at(L, i * d + i));
  if constexpr (!propto) lp -= static_cast<double>(m * d) * detail::kLogSqrtTwoPi;
  return lp;
}

/// lkj_corr_cholesky_lpdf when L or eta is nested.
template <bool propto = false, detail::AnyArg LT, detail::AnyArg Eta>
  requires((detail::Vector<LT> || detail::NestedVector<LT>) && detail::AnyNested<LT, Eta>)
detail::nested_t<LT, Eta> lkj_corr_cholesky_lpdf(const LT& L, const Eta& eta) {
  using R = detail::nested_t<LT, Eta>;
  static_assert(detail::nested_compatible<R, LT, Eta>, "nested arguments mix only with data");
  if (detail::nested_outside_support(
          [](const auto&... v) { return lkj_corr_cholesky_lpdf<false>(v...); }, L, eta))
    return R(detail::kNestedNegInf);
  const std::size_t d = detail::square_dim("lkj_corr_cholesky_lpdf", std::ranges::size(L));
  const double K = static_cast<double>(d);
  const auto& e = detail::at(eta, 0);
  R lp = 0.0;
  for (std::size_t i = 1; i < d; ++i)
    lp += (K - static_cast<double>(i) + 2.0 * e - 3.0) * ad::log(detail::at(L, i * d + i));
  if constexpr (detail::nested_include<propto, Eta>) {
    // -log c_K(eta), as detail::lkj_log_constant.
    for (std::size_t kk = 1; kk < d; ++kk) {
      const double k = static_cast<double>(kk), w = K - k;
      const auto b = e + 0.5 * (K - k - 1.0);
      lp -= w * ((2.0 * e - 2.0 + w) * std::numbers::ln2 + 2.0 * ad::lgamma(b) - ad::lgamma(2.0 * b));
    }
  }
  return lp;
}

}  // namespace nutshell::distributions

// A density the distributions module does not offer yet, written here over
// double and ad::var with one tape node (ad::precomputed): Stan's
// bernoulli_logit_glm_lpmf. (A candidate to move into nutshell/distributions/.)
#pragma once

#include <cmath>
#include <cstddef>
#include <span>

#include "nutshell/ad/ad.hpp"

namespace nutshell::posteriors {

/// sum_i log Bernoulli(y_i | inv_logit(alpha + X_i . beta)), X data (rows x K).
template <class T>
T bernoulli_logit_glm_lpmf(std::span<const double> y, ad::MatrixView<const double> X,
                           const T& alpha, std::span<const T> beta) {
  const std::size_t n = X.rows, k = X.cols;
  double* partials = ad::arena_alloc<double>(k + 1);  // d/dalpha, d/dbeta
  for (std::size_t j = 0; j <= k; ++j) partials[j] = 0.0;
  double lp = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    double eta = ad::value_of(alpha);
    const auto row = X.row(i);
    for (std::size_t j = 0; j < k; ++j) eta += row[j] * ad::value_of(beta[j]);
    // y eta - log(1 + exp(eta)), stable; residual y - inv_logit(eta).
    const double a = std::exp(-std::abs(eta));
    lp += y[i] * eta - std::max(eta, 0.0) - std::log1p(a);
    const double p = eta >= 0.0 ? 1.0 / (1.0 + a) : a / (1.0 + a);
    const double r = y[i] - p;
    partials[0] += r;
    for (std::size_t j = 0; j < k; ++j) partials[j + 1] += r * row[j];
  }
  if constexpr (ad::is_var_v<T>) {
    ad::var* operands = ad::arena_alloc<ad::var>(k + 1);
    operands[0] = alpha;
    for (std::size_t j = 0; j < k; ++j) operands[j + 1] = beta[j];
    return ad::precomputed(lp, std::span<const ad::var>(operands, k + 1),
                           std::span<const double>(partials, k + 1));
  } else {
    return lp;
  }
}

}  // namespace nutshell::posteriors
